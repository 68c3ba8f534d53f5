import ArgumentParser
import Foundation
import MFA
import MFAServer

/// What `serve` does on SIGHUP (`systemctl reload`): reads its settings again, from the command line,
/// the environment and the `--config` file in the same order as at start, applies what can change
/// while it runs, and says what needs a restart.
///
/// Applied at once: the sign-in windows, the lockout and the pending lifetime (audited as
/// `service.reload` with old and new values), the TLS certificate and key (read again from their
/// paths, so a renewal needs no restart), the access log (reopened, for log rotation) and the API key
/// cache (emptied, so a key revoked elsewhere stops at once). A settings file that does not parse, a
/// value out of range or a certificate that does not load changes nothing: the running settings stay,
/// and the reason is printed.
actor ServeReloader {
    /// Settings a reload applies; every other one needs a restart.
    static let reloadable: Set<String> = ["totp-window", "hotp-look-ahead", "lockout-threshold", "lockout-decay", "pending-lifetime", "tls-cert", "tls-key"]

    /// The values at start (for what needs a restart) and those in force (for what a reload changes).
    private let started: [String: String]
    private var current: [String: String]
    private let service: MFAService
    private let tls: ServerTLS?
    private let keys: APIKeyCache
    private let accessLog: AccessLog?

    init(running: ServeCommand, service: MFAService, tls: ServerTLS?, keys: APIKeyCache, accessLog: AccessLog?) {
        started = running.settingValues
        current = started
        self.service = service
        self.tls = tls
        self.keys = keys
        self.accessLog = accessLog
    }

    func reload() async {
        SystemdNotify.send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
        defer { SystemdNotify.send("READY=1") }
        do {
            let settings = try ServeSettings.resolve(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
            let next: ServeCommand
            do { next = try ServeCommand.parse(Array(settings.arguments.dropFirst())) } catch {
                throw CLIError(ServeCommand.message(for: error))
            }
            // Everything is checked before anything changes: a failed reload changes nothing.
            let policy = try next.policy()
            guard (next.tlsCert == nil) == (next.tlsKey == nil) else { throw CLIError("--tls-cert and --tls-key go together") }
            let values = next.settingValues
            let names = ServeSettings.all.map(\.name)
            // Turning TLS on or off changes the listener: a restart.
            let tlsSwitch = (tls == nil) != (next.tlsCert == nil)
            let restart = names.filter { started[$0] != values[$0] && (!Self.reloadable.contains($0) || (tlsSwitch && $0.hasPrefix("tls-"))) }
            let renewal = try tls == nil ? nil : next.tlsCert.map { (certificate: String) throws(MFAError) in
                try ServerTLS.prepare(TLSFiles(certificate: certificate, privateKey: next.tlsKey!))
            }
            let changes = names.filter { Self.reloadable.contains($0) && !$0.hasPrefix("tls-") && current[$0] != values[$0] }
                .map { "\($0) \(current[$0] ?? "-") → \(values[$0] ?? "-")" }
            // Audited before it applies (the service appends, then swaps): a store that cannot take
            // the entry leaves the old policy in force.
            if !changes.isEmpty { try await service.reload(policy: policy, changes: changes.joined(separator: ", "), actor: "serve") }
            for name in names where Self.reloadable.contains(name) { current[name] = values[name] }
            var done = [changes.isEmpty ? "policy unchanged" : changes.joined(separator: ", ")]
            if let tls, let renewal {
                tls.use(renewal)
                done.append("TLS certificate reloaded from \(renewal.files.certificate)")
            }
            if let accessLog {
                do {
                    try accessLog.reopen()
                    done.append("access log reopened")
                } catch {
                    done.append("access log not reopened (\(error)); still writing where it was")
                }
            }
            keys.removeAll()
            done.append("API key cache emptied")
            if !restart.isEmpty { done.append("a restart applies: " + restart.joined(separator: ", ")) }
            say("reloaded (SIGHUP): " + done.joined(separator: "; "))
        } catch {
            say("reload failed (SIGHUP); the running settings stay: \(error)")
        }
    }

    /// `CLOCK_MONOTONIC` in microseconds, as systemd's `RELOADING=1` message wants it.
    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

extension ServeCommand {
    /// Every setting's value as text, by long name (``ServeSettings/all``), to tell what a reload
    /// changed (compared, never printed: only the names of what needs a restart are).
    var settingValues: [String: String] {
        [
            "db": store.db ?? "", "key-file": store.keyFile ?? "", "listen": listen, "tls-cert": tlsCert ?? "", "tls-key": tlsKey ?? "",
            "totp-window": "\(totpWindow)", "hotp-look-ahead": "\(hotpLookAhead)", "lockout-threshold": "\(lockoutThreshold)",
            "lockout-decay": "\(lockoutDecay)", "api-key-cache": "\(apiKeyCache)", "event-loops": eventLoops.map(String.init) ?? "",
            "admin-key-file": adminKeyFile ?? "", "idle-timeout": "\(idleTimeout)", "request-timeout": "\(requestTimeout)",
            "pending-lifetime": pendingLifetime ?? "", "max-connections": maxConnections.map(String.init) ?? "", "access-log": accessLog ?? "",
            "shutdown-timeout": "\(shutdownTimeout)", "no-fast-path": "\(!fastPath)",
        ]
    }
}
