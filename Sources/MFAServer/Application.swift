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

/// Where and how the server listens: its address, TLS, threads, connection limits and the verify
/// fast path. The shared, reloadable parts (the certificate inside ``ServerTLS``, the key cache, the
/// access log) stay objects of the caller's, so a reload changes them while the server runs.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// TLS with this certificate and key (replaceable while running); nil: plain HTTP.
    public var tls: ServerTLS?
    /// Threads serving connections (nil: NIO's shared group, one per core).
    public var eventLoops: Int?
    public var limits: ConnectionLimits
    /// Verifies answered before the router (`serve --no-fast-path` turns it off). Off while an
    /// access log is written: every request then goes through the router, which logs it.
    public var fastPath: Bool

    public init(host: String, port: Int, tls: ServerTLS? = nil, eventLoops: Int? = nil, limits: ConnectionLimits = ConnectionLimits(), fastPath: Bool = true) {
        self.host = host
        self.port = port
        self.tls = tls
        self.eventLoops = eventLoops
        self.limits = limits
        self.fastPath = fastPath
    }
}

/// The application: the router on the configured address, over TLS when it has a certificate.
/// `keys`' lifetime bounds how long a key revoked elsewhere keeps working in this process; `keys`
/// and `accessLog` are the caller's (a reload flushes the cache and reopens the log).
public func buildApplication(service: MFAService, configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics(),
                             keys: APIKeyCache = APIKeyCache(), accessLog: AccessLog? = nil,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let (host, port, tls, eventLoops, limits, fastPathEnabled) =
        (configuration.host, configuration.port, configuration.tls, configuration.eventLoops, configuration.limits, configuration.fastPath)
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
