import Hummingbird
import MFA

/// The work of `POST /v1/verify` after authentication and decoding, shared by the route and
/// ``VerifyFastPath`` so both answer, count and time a verify the same way.
struct VerifyEndpoint: Sendable {
    let service: MFAService
    let metrics: ServerMetrics

    func run(_ body: VerifyRequest, idempotencyKey: String?, key: APIKeyRecord) async throws(APIError) -> VerifyResponse {
        let started = ContinuousClock.now
        let answer: VerifyResponse
        do { answer = try await ServiceAdapter(service, key: key).verify(user: body.user, code: body.code, idempotencyKey: idempotencyKey) } catch {
            throw APIError(error)
        }
        let elapsed = ContinuousClock.now - started
        metrics.recordVerify(result: answer.result, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return answer
    }

    /// The `Idempotency-Key` header: the first one when a client sends several.
    static func idempotencyKey(_ fields: HTTPFields) -> String? {
        fields.first { $0.name.canonicalName == "idempotency-key" }?.value
    }
}
