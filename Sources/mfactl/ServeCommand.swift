import ArgumentParser
import Foundation
import Hummingbird
import MFA
import MFAServer

/// `mfactl serve`: the HTTP service on the local store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the MFA HTTP service (SQLite in the data directory by default).",
        discussion: "The data directory is \(StoreOptions.dataDirectoryOrder); it holds mfa.sqlite and vault.key unless --db and --key-file name others.")

    @Option(help: ArgumentHelp(
        "Read settings from this TOML file (or MFA_CONFIG): serve's long options as keys, e.g. idle-timeout = 60, no-fast-path = true.",
        discussion: "An option on the command line beats its MFA_* environment variable (MFA_IDLE_TIMEOUT; MFACTL_DB and MFACTL_KEY_FILE for the store), which beats the file. SIGHUP re-reads the file."))
    var config: String?
    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on (host:port; port 0 picks a free one).") var listen: String = "127.0.0.1:8080"
    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate (chain).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("totp-window"), help: "Sign-in window: TOTP steps either side of the device's drift.") var totpWindow: Int = 1
    @Option(name: .customLong("hotp-look-ahead"), help: "Sign-in window: HOTP counters ahead.") var hotpLookAhead: Int = 10
    @Option(name: .customLong("lockout-threshold"), help: "Consecutive failures that lock a device.") var lockoutThreshold: Int = 10
    @Option(name: .customLong("lockout-decay"), help: "Seconds without a failure after which a device's failures are forgotten (0: never).")
    var lockoutDecay: Int = 0
    @Option(name: .customLong("api-key-cache"), help: "Seconds an authenticated API key is cached; a key revoked elsewhere stops working here within this time.")
    var apiKeyCache: Int = 2
    @Option(name: .customLong("event-loops"), help: "Threads serving HTTP connections (default: one per core).")
    var eventLoops: Int?
    @Option(name: .customLong("admin-key-file"), help: "On first start, write the admin API key to this new file (0600) instead of printing it.")
    var adminKeyFile: String?
    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection with no request may stay open.") var idleTimeout: Int = 60
    @Option(name: .customLong("request-timeout"), help: "Seconds a request's head may take to arrive, and its body may pause.") var requestTimeout: Int = 30
    @Option(name: .customLong("pending-lifetime"), help: "How long a pending device may wait to be enabled before it is deleted (24h, 7d, seconds; or MFA_PENDING_LIFETIME).")
    var pendingLifetime: String?
    @Option(name: .customLong("max-connections"), help: "Connections open at once; more clients wait in the listen backlog (default 4096, or what the open-file limit allows).")
    var maxConnections: Int?
    @Option(name: .customLong("access-log"), help: ArgumentHelp(
        "Append one line per request to this file (- for standard output): address, key id, time, method, path, status, bytes, duration.",
        discussion: "Never a code, token, body or query string. Every request then goes through the router (the verify fast path is off)."))
    var accessLog: String?
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds requests in flight may take to finish after SIGTERM or SIGINT; then they are cut off.")
    var shutdownTimeout: Int = 10
    @Flag(inversion: .prefixedNo, help: "--no-fast-path serves POST /v1/verify through the router like every other request (an operator's switch); --fast-path undoes a no-fast-path = true in the file.")
    var fastPath = true

    func run() async throws {
        try await CLIOutput.run {
            // First, so a value out of range below is read next to where it came from.
            if let summary = ServeSettings.startup.withLock({ $0 })?.summary {
                say(summary)
            }
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                throw CLIError("--listen must be HOST:PORT")
            }
            var host = String(listen[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard (0...3_600).contains(apiKeyCache) else { throw CLIError("--api-key-cache must be 0-3600 seconds") }
            if let eventLoops, !(1...256).contains(eventLoops) { throw CLIError("--event-loops must be 1-256") }
            guard (1...86_400).contains(idleTimeout), (1...3_600).contains(requestTimeout) else {
                throw CLIError("--idle-timeout must be 1-86400 seconds, --request-timeout 1-3600")
            }
            if let maxConnections, !(1...1_000_000).contains(maxConnections) { throw CLIError("--max-connections must be 1-1000000") }
            guard (1...3_600).contains(shutdownTimeout) else { throw CLIError("--shutdown-timeout must be 1-3600 seconds") }
            let connections = try FileLimit.ensure(connections: maxConnections ?? 4_096, exactly: maxConnections != nil)
            if connections < (maxConnections ?? 4_096) { say("max connections: \(connections) (the open-file limit allows no more)") }
            let limits = ConnectionLimits(idleTimeout: .seconds(idleTimeout), requestTimeout: .seconds(requestTimeout), maxConnections: connections)
            let policy = try policy()
            // What can fail without the store is checked before it is opened: a server that cannot
            // load its certificate or bind its port leaves no new store and no printed admin key behind.
            guard (tlsCert == nil) == (tlsKey == nil) else { throw CLIError("--tls-cert and --tls-key go together") }
            let tls = try tlsCert.map { (certificate: String) throws(MFAError) in try ServerTLS(TLSFiles(certificate: certificate, privateKey: tlsKey!)) }
            if tls == nil && !ServerPreflight.isLoopback(host) {
                FileHandle.standardError.write(Data(("warning: listening on \(host) without TLS: API keys and codes cross the network in clear; "
                    + "give --tls-cert and --tls-key, or put a TLS-terminating proxy in front and listen on loopback\n").utf8))
            }
            if let problem = await ServerPreflight.listenProblem(host: host, port: port) { throw CLIError(problem) }
            let log: AccessLog?
            do { log = try accessLog.map { try AccessLog(path: $0) } } catch { throw CLIError("\(error)") }
            say("data directory: \(StoreOptions.dataDirectory) (\(StoreOptions.dataDirectoryOrder))")
            say("store: \(store.redactedDB), vault key: \(store.keySource)")
            if let accessLog { say("access log: \(accessLog == "-" ? "standard output" : accessLog) (the verify fast path is off)") }
            let service = try await store.openService(policy: policy)
            let keys = APIKeyCache(lifetime: .seconds(apiKeyCache))
            try await bootstrap(service)
            let shown = host.contains(":") ? "[\(host)]" : host
            let scheme = tls == nil ? "http" : "https"
            let configuration = ServerConfiguration(host: host, port: port, tls: tls, eventLoops: eventLoops, limits: limits, fastPath: fastPath)
            let app = try buildApplication(service: service, configuration: configuration, keys: keys, accessLog: log) { actual in
                say("listening on \(scheme)://\(shown):\(actual)")
                SystemdNotify.send("READY=1\nSTATUS=listening on \(scheme)://\(shown):\(actual)")
            }
            let sweepers = [
                Task { await Sweepers.idempotency(service: service) },
                Task { await Sweepers.pendingDevices(service: service, every: Sweepers.pendingInterval(lifetime: policy.pendingLifetimeSeconds)) },
            ]
            defer { for sweeper in sweepers { sweeper.cancel() } }
            let reloader = ServeReloader(running: self, service: service, tls: tls, keys: keys, accessLog: log)
            do { try await ServeLifecycle.run(app, drainSeconds: shutdownTimeout, onHangup: { await reloader.reload() }) } catch {
                // Another process took the port between the check and the bind: the same one line.
                if let problem = ServerPreflight.listenProblem(error, host: host, port: port) { throw CLIError(problem) }
                throw error
            }
        }
    }

    /// The sign-in policy these options set (with `MFA_PENDING_LIFETIME`'s default): at start and at
    /// each reload, with the same checks.
    func policy() throws -> Policy {
        guard (0...10).contains(totpWindow), (0...1_000).contains(hotpLookAhead), (1...1_000).contains(lockoutThreshold) else {
            throw CLIError("--totp-window must be 0-10, --hotp-look-ahead 0-1000, --lockout-threshold 1-1000")
        }
        guard (0...31_536_000).contains(lockoutDecay) else { throw CLIError("--lockout-decay must be 0-31536000 seconds") }
        var policy = try StoreOptions.environmentPolicy()
        if let pendingLifetime { policy.pendingLifetimeSeconds = try StoreOptions.pendingLifetime(pendingLifetime, from: "--pending-lifetime") }
        policy.totpWindow = totpWindow
        policy.hotpLookAhead = hotpLookAhead
        policy.lockoutThreshold = lockoutThreshold
        policy.lockoutDecaySeconds = Int64(lockoutDecay)
        return policy
    }

    /// On a new store, the first admin API key: printed once, or written to `--admin-key-file`.
    /// Atomic: of several servers starting together on a new store, one makes the key.
    private func bootstrap(_ service: MFAService) async throws {
        guard try await service.apiKeys().isEmpty else { return }
        if let adminKeyFile, FileManager.default.fileExists(atPath: adminKeyFile) {
            throw CLIError("--admin-key-file \(adminKeyFile) exists; remove it or name a new file")
        }
        guard let (record, token) = try await service.createFirstAdminKey(actor: "serve") else {
            say("first start: another process created the admin API key meanwhile")
            return
        }
        if let adminKeyFile {
            guard try PrivateFile.create(adminKeyFile, contents: Array((token + "\n").utf8)) else {
                try await service.revokeAPIKey(id: record.id, actor: "serve")
                throw CLIError("--admin-key-file \(adminKeyFile) appeared meanwhile; the key made for it was revoked")
            }
            say("first start: created admin API key \(record.id), written to \(adminKeyFile) (mode 0600)")
        } else {
            say("first start: created admin API key \(record.id) — shown once, store it now:")
            say("  \(token)")
        }
        say("more keys: mfactl api-key create --name NAME --scope admin|technician|verifier|metrics")
    }
}

/// Unbuffered line output (a server's first lines must reach a pipe at once).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
