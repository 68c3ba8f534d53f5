import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MFA
import NIOPosix
import OTP
import QRCode
import SeedImport

/// `service` with its lockouts counted in `metrics` and logged: an operator watching the log sees a
/// lock as it happens (the serial only; the user and the reason are in the audit log).
func instrumented(_ service: MFAService, metrics: ServerMetrics) -> MFAService {
    var observed = service
    observed.observer = { [previous = service.observer] event in
        previous?(event)
        if case .deviceLocked(let serial) = event {
            metrics.recordLockout()
            lockoutLogger.notice("device locked after repeated failed codes", metadata: ["serial": "\(serial)"])
        }
    }
    return observed
}

private let lockoutLogger = Logger(label: "mfa-bridge.lockout")

/// The router over an already ``instrumented(_:metrics:)`` service; `keys` is shared with ``VerifyFastPath``.
func makeRouter(service: MFAService, metrics: ServerMetrics, keys: APIKeyCache, accessLog: AccessLog? = nil) -> Router<MFARequestContext> {
    let router = Router(context: MFARequestContext.self)
    let table = RouteTable()
    if let accessLog { router.add(middleware: AccessLogMiddleware(log: accessLog)) }
    router.add(middleware: ResponseMetricsMiddleware(metrics: metrics))
    router.add(middleware: MethodNotAllowedMiddleware(table: table))
    router.add(middleware: AuthenticationMiddleware(service: service, keys: keys))

    table.add(router, .get, "/healthz") { _, _ -> StatusResponse in
        _ = try await call { try await service.store.auditCheckpoint() }
        return StatusResponse(status: "ok")
    }
    table.add(router, .get, "/metrics") { _, context -> Response in
        _ = try context.require(.metrics)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }

    let verify = VerifyEndpoint(service: service, metrics: metrics)
    table.add(router, .post, "/v1/verify") { request, context -> VerifyResponse in
        let key = try context.require(.verifier)
        let body = try await decode(VerifyRequest.self, request, context)
        return try await verify.run(body, idempotencyKey: VerifyEndpoint.idempotencyKey(request.headers), key: key)
    }

    table.add(router, .post, "/v1/devices/virtual") { request, context -> Response in
        let key = try context.require(.admin)
        let body = try await decode(CreateVirtualRequest.self, request, context)
        guard let kind = DeviceKind(rawValue: body.kind ?? DeviceKind.virtualTOTP.rawValue), kind == .virtualTOTP || kind == .oathCard || kind == .hidSlot else {
            throw APIError(.badRequest, code: "invalid-input", message: "kind must be virtual-totp, oath-card or hid-slot (yubico-otp: POST /v1/devices/yubico-otp)")
        }
        // Spelled as in otpauth URIs.
        guard let algorithm = ["SHA1": HashAlgorithm.sha1, "SHA256": .sha256, "SHA512": .sha512][body.algorithm ?? "SHA1"] else {
            throw APIError(.badRequest, code: "invalid-input", message: "algorithm must be SHA1, SHA256 or SHA512")
        }
        let enrollment = try await call {
            try await service.createVirtual(user: body.user, issuer: body.issuer ?? "mfa-bridge", kind: kind, digits: body.digits ?? 6, algorithm: algorithm,
                                            period: body.period ?? 30, actor: "key:\(key.id)")
        }
        let png = kind == .virtualTOTP ? (try? QRCode(encoding: enrollment.uri)).map { Data($0.pngData()).base64EncodedString() } : nil
        return try CreateVirtualResponse(serial: enrollment.serial, secret: enrollment.secretBase32, uri: enrollment.uri, qrPNG: png)
            .response(from: request, context: context).withStatus(.created)
    }

    table.add(router, .post, "/v1/devices/yubico-otp") { request, context -> Response in
        let key = try context.require(.admin)
        let body = try await decode(CreateYubicoOTPRequest.self, request, context)
        let e = try await call { try await service.createYubicoOTP(user: body.user, actor: "key:\(key.id)") }
        return try YubicoOTPEnrollmentResponse(serial: e.serial, publicId: e.publicID, privateId: e.privateIDHex, aesKey: e.aesKeyHex)
            .response(from: request, context: context).withStatus(.created)
    }

    table.add(router, .post, "/v1/devices") { request, context -> Response in
        let key = try context.require(.admin)
        let body = try await decode(RegisterRequest.self, request, context)
        try await call { try await body.register(on: service, actor: "key:\(key.id)") }
        return try StatusResponse(status: "registered", serial: body.serial).response(from: request, context: context).withStatus(.created)
    }

    table.add(router, .get, "/v1/devices") { request, context -> DeviceList in
        _ = try context.require(.admin)
        let text = request.uri.queryParameters.get("assignment") ?? "any"
        guard let assignment = Assignment(rawValue: text) else {
            throw APIError(.badRequest, code: "invalid-input", message: "assignment must be assigned, unassigned or any")
        }
        guard let stateText = request.uri.queryParameters.get("state") else {
            return DeviceList(devices: service.views(try await call { try await service.inventory(assignment) }))
        }
        guard let state = DeviceState(rawValue: String(stateText)) else {
            throw APIError(.badRequest, code: "invalid-input", message: "state must be one of \(DeviceState.allNames)")
        }
        let devices = try await call { try await service.devices(state: state) }.filter { assignment.includes($0) }
        return DeviceList(devices: service.views(devices))
    }

    table.add(router, .get, "/v1/users/:user/devices") { _, context -> DeviceList in
        _ = try context.require(.technician)
        let user = try context.parameters.decoded("user")
        return DeviceList(devices: service.views(try await call { try await service.list(user: user) }))
    }

    table.add(router, .post, "/v1/devices/:serial/enable") { request, context -> StatusResponse in
        let key = try context.require(.admin)
        let serial = try context.parameters.decoded("serial")
        let body = try await decode(TwoCodesRequest.self, request, context)
        try await call { try await service.enable(user: body.user, serial: serial, code1: body.code1, code2: body.code2, actor: "key:\(key.id)") }
        return StatusResponse(status: "active", serial: serial)
    }

    table.add(router, .post, "/v1/devices/:serial/enable-otp") { request, context -> StatusResponse in
        let key = try context.require(.admin)
        let serial = try context.parameters.decoded("serial")
        let body = try await decode(OTPEnableRequest.self, request, context)
        try await call { try await service.enable(user: body.user, serial: serial, otp: body.otp, actor: "key:\(key.id)") }
        return StatusResponse(status: "active", serial: serial)
    }

    table.add(router, .post, "/v1/devices/:serial/resync") { request, context -> StatusResponse in
        let key = try context.require(.technician)
        let serial = try context.parameters.decoded("serial")
        let body = try await decode(TwoCodesRequest.self, request, context)
        try await call { try await service.resync(user: body.user, serial: serial, code1: body.code1, code2: body.code2, actor: "key:\(key.id)") }
        return StatusResponse(status: "resynchronized", serial: serial)
    }

    table.add(router, .post, "/v1/devices/:serial/diagnose") { request, context -> DiagnosisResponse in
        let key = try context.require(.technician)
        let serial = try context.parameters.decoded("serial")
        let body = try await decode(CodeRequest.self, request, context)
        return DiagnosisResponse(diagnosis: try await call { try await service.diagnose(serial: serial, code: body.code, actor: "key:\(key.id)") })
    }

    table.add(router, .post, "/v1/devices/:serial/deactivate") { _, context -> StatusResponse in
        let key = try context.require(.admin)
        let serial = try context.parameters.decoded("serial")
        let changed = try await call { try await service.deactivate(serial: serial, actor: "key:\(key.id)") }
        return StatusResponse(status: changed ? "deactivated" : "already-deactivated", serial: serial)
    }

    table.add(router, .post, "/v1/devices/:serial/unlock") { _, context -> StatusResponse in
        let key = try context.require(.technician)
        let serial = try context.parameters.decoded("serial")
        let changed = try await call { try await service.unlock(serial: serial, actor: "key:\(key.id)", byTechnician: !key.allows(.admin)) }
        return StatusResponse(status: changed ? "active" : "not-locked", serial: serial)
    }

    table.add(router, .delete, "/v1/devices/:serial") { _, context -> StatusResponse in
        let key = try context.require(.admin)
        let serial = try context.parameters.decoded("serial")
        try await call { try await service.delete(serial: serial, actor: "key:\(key.id)") }
        return StatusResponse(status: "deleted", serial: serial)
    }

    table.add(router, .get, "/v1/reports/credentials") { request, context -> Response in
        _ = try context.require(.admin)
        let format = request.uri.queryParameters.get("format") ?? "json"
        guard format == "json" || format == "csv" else {
            throw APIError(.badRequest, code: "invalid-input", message: "format must be json or csv")
        }
        let rows = try await call { try await service.credentialReport() }
        if format == "csv" {
            let csv = ([CredentialReportRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        return try ReportResponse(rows: rows).response(from: request, context: context)
    }

    addAuditRoutes(router, table, service: service)
    addImportRoute(router, table, service: service)
    addAPIKeyRoutes(router, table, service: service)
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

/// Counts responses by status (errors included) and store failures.
struct ResponseMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: MFARequestContext, next: (Request, MFARequestContext) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.recordResponse(status: response.status.code)
            return response
        } catch let error as APIError {
            metrics.record(error)
            throw error
        } catch let error as any HTTPResponseError {
            metrics.recordResponse(status: error.status.code)
            throw error
        }
    }
}

/// The `Server` header of every response.
let serverName = "mfa-bridge"

/// PEM files of the server certificate (chain) and its private key.
public struct TLSFiles: Sendable {
    public let certificate: String
    public let privateKey: String
    public init(certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

/// The application: the router on `host:port`, over TLS when `tls` is given.
/// `keys`' lifetime bounds how long a key revoked elsewhere keeps working in this process. `tls`,
/// `keys` and `accessLog` are the caller's, so a reload can swap the certificate, flush the cache and
/// reopen the log while the server runs.
/// `eventLoops`: threads serving connections (nil: NIO's shared group, one per core).
/// TLS 1.2 suites the server offers: ECDHE key exchange, AES-GCM or ChaCha20-Poly1305.
let tlsCipherSuites = [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
].joined(separator: ":")

public func buildApplication(service: MFAService, metrics: ServerMetrics = ServerMetrics(), host: String, port: Int, tls: ServerTLS? = nil,
                             keys: APIKeyCache = APIKeyCache(), eventLoops: Int? = nil, limits: ConnectionLimits = ConnectionLimits(),
                             accessLog: AccessLog? = nil, fastPath fastPathEnabled: Bool = true,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let metricsService = instrumented(service, metrics: metrics)
    // With an access log every request goes through the router, which writes it.
    let fastPath = VerifyFastPath.Shared(endpoint: VerifyEndpoint(service: metricsService, metrics: metrics), keys: keys,
                                         enabled: fastPathEnabled && accessLog == nil)
    var server = HTTPServerBuilder { responder in MFAHTTPChannel(responder: responder, shared: fastPath, limits: limits) }
    if let tls {
        let tlsConfiguration = tls.configuration()
        server = HTTPServerBuilder { responder in
            try TLSChannel(MFAHTTPChannel(responder: responder, shared: fastPath, limits: limits), tlsConfiguration: tlsConfiguration)
        }
    }
    return Application(
        router: makeRouter(service: metricsService, metrics: metrics, keys: keys, accessLog: accessLog),
        server: server,
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        eventLoopGroupProvider: eventLoops.map { .shared(MultiThreadedEventLoopGroup(numberOfThreads: $0)) } ?? .singleton)
}
