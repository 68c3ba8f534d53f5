import Foundation
import Hummingbird
import MFA

/// The router over an already ``instrumented(_:metrics:)`` service; `keys` is shared with ``VerifyFastPath``.
///
/// Every request passes the same middlewares (access log, metrics, 405/404, authentication), then
/// the route group of its resource.
func makeRouter(service: MFAService, metrics: ServerMetrics, keys: APIKeyCache, accessLog: AccessLog? = nil) -> Router<MFARequestContext> {
    let router = Router(context: MFARequestContext.self)
    let table = RouteTable()
    if let accessLog { router.add(middleware: AccessLogMiddleware(log: accessLog)) }
    router.add(middleware: ResponseMetricsMiddleware(metrics: metrics))
    router.add(middleware: MethodNotAllowedMiddleware(table: table))
    router.add(middleware: AuthenticationMiddleware(service: service, keys: keys))
    let groups: [any RouteGroup] = [
        ServiceRoutes(service: service, metrics: metrics),
        VerifyRoutes(endpoint: VerifyEndpoint(service: service, metrics: metrics)),
        DeviceRoutes(service: service),
        ReportRoutes(service: service),
        AuditRoutes(service: service),
        ImportRoutes(service: service),
        APIKeyRoutes(service: service),
    ]
    for group in groups { group.add(to: router, table) }
    return router
}

/// Decodes a JSON body, turning any decoding failure into the API's 400 shape.
func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: MFARequestContext) async throws -> T {
    // Decoded here rather than by `request.decode`, which folds the decoder's error (the field at
    // fault) into a generic 400 before we could name it.
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: context.maxUploadSize) } catch {
        throw APIError(.contentTooLarge, code: "invalid-body", message: "the request body is larger than \(context.maxUploadSize) bytes")
    }
    do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch let error as DecodingError {
        throw APIError(.badRequest, code: "invalid-body", message: BodyProblem.describe(error))
    } catch {
        throw APIError(.badRequest, code: "invalid-body", message: "the request body is not JSON")
    }
}

/// Runs a service call, mapping its typed errors to HTTP.
func call<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as MFAError { throw APIError(error) }
}

extension Response {
    func withStatus(_ status: HTTPResponse.Status) -> Response {
        var copy = self
        copy.status = status
        return copy
    }
}
