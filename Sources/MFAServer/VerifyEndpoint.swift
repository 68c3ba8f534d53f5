import Hummingbird
import MFA

/// The work of `POST /v1/verify` after authentication and decoding, shared by the route and
/// ``VerifyFastPath`` so both answer, count and time a verify the same way.
struct VerifyEndpoint: Sendable {
    let service: MFAService
    let metrics: ServerMetrics

    func run(_ body: VerifyRequest, idempotencyKey: String?, key: APIKeyRecord) async throws(APIError) -> VerifyResponse {
        let started = ContinuousClock.now
        let result: VerifyResult
        do {
            if let idempotencyKey {
                result = try await service.verify(user: body.user, code: body.code, idempotencyKey: idempotencyKey, actor: "key:\(key.id)")
            } else {
                result = try await service.verify(user: body.user, code: body.code, actor: "key:\(key.id)")
            }
        } catch { throw APIError(error) }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        switch result {
        case .accepted(let serial):
            metrics.recordVerify(result: "accepted", seconds: seconds)
            return VerifyResponse(result: "accepted", serial: serial)
        case .rejected:
            metrics.recordVerify(result: "rejected", seconds: seconds)
            return VerifyResponse(result: "rejected", serial: nil)
        }
    }

    /// The `Idempotency-Key` header: the first one when a client sends several.
    static func idempotencyKey(_ fields: HTTPFields) -> String? {
        fields.first { $0.name.canonicalName == "idempotency-key" }?.value
    }
}
