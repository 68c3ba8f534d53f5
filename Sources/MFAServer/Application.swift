import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MFA
import NIOPosix

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

/// The `Server` header of every response.
let serverName = "mfa-bridge"

/// The application: the router on `host:port`, over TLS when `tls` is given.
/// `keys`' lifetime bounds how long a key revoked elsewhere keeps working in this process. `tls`,
/// `keys` and `accessLog` are the caller's, so a reload can swap the certificate, flush the cache and
/// reopen the log while the server runs.
/// `eventLoops`: threads serving connections (nil: NIO's shared group, one per core).
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
