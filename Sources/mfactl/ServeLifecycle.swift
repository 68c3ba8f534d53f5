import Logging
import ServiceLifecycle
import UnixSignals

/// How `serve` runs and stops: SIGTERM or SIGINT stop accepting connections, let the requests in
/// flight finish (idle kept-alive connections close at once) and exit 0; requests still running after
/// `--shutdown-timeout` are cut off so that a stop never hangs (systemd's `TimeoutStopSec` would
/// otherwise SIGKILL the process, losing the log line that says why).
enum ServeLifecycle {
    static func run(_ app: some Service, drainSeconds: Int, onHangup: @escaping @Sendable () async -> Void) async throws {
        // Trapped before the server listens (and says so), so no SIGHUP after that line kills it.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                .init(service: HangupListener(signals: hangups, onHangup: onHangup), successTerminationBehavior: .ignore),
                // Last, so it hears of the shutdown first (the group stops services in reverse order).
                .init(service: ShutdownAnnouncer(drainSeconds: drainSeconds), successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: Logger(label: "mfa-bridge.serve"))
        configuration.maximumGracefulShutdownDuration = .seconds(drainSeconds)
        configuration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch is CancellationError {
            // The drain bound passed and the rest was cancelled: stopping was asked for, so it is no failure.
        }
        say("stopped")
    }
}

/// Says (and tells systemd) that the server is stopping, once a shutdown signal arrives.
private struct ShutdownAnnouncer: Service {
    let drainSeconds: Int

    func run() async throws {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        SystemdNotify.send("STOPPING=1")
        say("shutting down: no new connections; requests in flight get at most \(drainSeconds) s to finish")
    }
}

/// Runs `onHangup` for each SIGHUP (one at a time; signals that arrive meanwhile are merged), until
/// the server shuts down. Trapping SIGHUP also keeps it from killing the process, its default.
private struct HangupListener: Service {
    let signals: UnixSignalsSequence
    let onHangup: @Sendable () async -> Void

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            await onHangup()
        }
    }
}
