import Foundation
import TestSupport
import Testing

/// `serve --config FILE` (TOML), `MFA_*` variables and SIGHUP reloads (issue 17, deployment).
@Suite("serve --config, MFA_* variables and SIGHUP reloads")
struct ServeConfigTests {
    typealias Server = ServiceEndToEndTests.Server

    static func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// `serve` with `file` as its settings, on a store in `directory` that must not come to exist.
    static func refused(_ file: String, in directory: URL, environment: [String: String] = [:]) async throws -> String {
        let db = directory.appendingPathComponent("never.sqlite").path
        let result = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--config", file, "--db", "sqlite:" + db, "--key-file", db + ".key"],
                                             environment: environment.merging(["MFA_DATA_DIR": directory.path]) { a, _ in a }, timeout: 30)
        #expect(result.status == 2, "\(file): \(result.status) \(result.stdout) \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db) && !FileManager.default.fileExists(atPath: db + ".key"), "a refused start created the store")
        return result.stderr
    }

    /// Sends SIGHUP and waits for the reload's line (`reloaded` or `reload failed`), the `count`-th one.
    static func hangUp(_ server: Server, count: Int) async throws -> String {
        kill(server.process.process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let lines = server.process.stdout.split(separator: "\n").filter { $0.hasPrefix("reload") }
            if lines.count >= count { return String(lines[count - 1]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no reload line after SIGHUP: \(server.process.stdout)")
        return ""
    }

    @Test("every option in serve --help is a setting; a typo, a wrong type, a table, bad TOML or a bad variable is one error and creates nothing")
    func refusals() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("serve.toml").path
        let help = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--help"])
        let options = Set(help.stdout.matches(of: /--([a-z][a-z-]+)/).map { String($0.1) }).subtracting(["help", "config", "version", "fast-path"])
        try #require(options.count >= 19, "\(options.sorted())")
        for option in options.sorted() {
            // An array is the wrong type for every setting: the error names the setting, not "unknown".
            try Self.write("\(option) = [1]\n", to: file)
            let stderr = try await Self.refused(file, in: directory)
            #expect(stderr.contains("'\(option)' must be"), "\(option): \(stderr)")
        }
        let cases: [(String, String)] = [
            ("idle_timeout = 5\n", "unknown setting 'idle_timeout' (did you mean 'idle-timeout'?)"),
            ("idle-timeout = \"5\"\n", "'idle-timeout' must be a whole number, not a string"),
            ("no-fast-path = \"yes\"\n", "'no-fast-path' must be true or false"),
            ("listen = \"127.0.0.1:0\n", "line 1, column"),
            ("[server]\nlisten = \"127.0.0.1:0\"\n", "[server] is a table"),
            ("totp-window = 99\n", "--totp-window must be 0-10"),
        ]
        for (text, message) in cases {
            try Self.write(text, to: file)
            let stderr = try await Self.refused(file, in: directory)
            #expect(stderr.contains(message), "\(text.debugDescription): \(stderr)")
        }
        #expect(try await Self.refused(directory.appendingPathComponent("missing.toml").path, in: directory).contains("missing.toml: cannot read it (no such file)"))
        try Self.write("listen = \"127.0.0.1:0\"\n", to: file)
        #expect(try await Self.refused(file, in: directory, environment: ["MFA_NO_FAST_PATH": "maybe"]).contains("MFA_NO_FAST_PATH must be true or false"))
        #expect(try await Self.refused(file, in: directory, environment: ["MFA_IDLE_TIMEOUT": "ten"]).contains("MFA_IDLE_TIMEOUT must be a whole number"))
        #expect(try await Self.refused(file, in: directory, environment: ["MFA_SHUTDOWN_TIMEOUT": "0"]).contains("--shutdown-timeout must be 1-3600"))
    }

    @Test("the command line beats MFA_* variables, which beat the file; the start says where settings came from")
    func precedence() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try Self.write("""
            # serve's settings
            admin-key-file = "\(path("file.key"))"
            access-log = "\(path("file.log"))"
            lockout-threshold = 2
            pending-lifetime = 3600
            """, to: path("serve.toml"))
        let server = try await Server(.sqlite, extra: ["--config", path("serve.toml"), "--access-log", path("flag.log")],
                                      environment: ["MFA_ADMIN_KEY_FILE": path("env.key"), "MFA_ACCESS_LOG": path("env.log")])
        #expect(server.process.stdout.contains("settings from \(path("serve.toml")): lockout-threshold, pending-lifetime; environment: MFA_ADMIN_KEY_FILE\n"),
                "\(server.process.stdout)")
        let fileManager = FileManager.default
        #expect(fileManager.fileExists(atPath: path("env.key")) && !fileManager.fileExists(atPath: path("file.key")), "the variable's admin key file")
        _ = try await server.request("GET", "/healthz", token: nil)
        let flagLog = try String(contentsOfFile: path("flag.log"), encoding: .utf8)
        #expect(flagLog.contains("\"GET /healthz\" 200"), "\(flagLog)")
        #expect(!fileManager.fileExists(atPath: path("env.log")) && !fileManager.fileExists(atPath: path("file.log")))
        // The file's lockout threshold (2, not the default 10) is the one in force.
        let alice = try await VerifyFastPathTests.enroll("alice", on: server)
        for _ in 0..<2 { _ = try await server.request("POST", "/v1/verify", token: server.token, body: #"{"user":"alice","code":"000000"}"#) }
        let devices = try await server.json(["mfa", "list", "--user", "alice"])
        let device = try #require((devices["devices"] as? [[String: Any]])?.first { $0["serial"] as? String == alice.serial })
        #expect(device["state"] as? String == "locked", "\(device)")
    }

    @Test("SIGHUP: a new lockout applies at once and is audited, the access log reopens, a bad file changes nothing")
    func reload() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let file = path("serve.toml")
        try Self.write("lockout-threshold = 5\naccess-log = \"\(path("access.log"))\"\n", to: file)
        let server = try await Server(.sqlite, extra: ["--config", file])
        let alice = try await VerifyFastPathTests.enroll("alice", on: server)
        _ = try await server.request("GET", "/healthz", token: nil)
        // Log rotation moves the file away; the new threshold and a setting that needs a restart.
        try FileManager.default.moveItem(atPath: path("access.log"), toPath: path("access.log.1"))
        try Self.write("lockout-threshold = 2\naccess-log = \"\(path("access.log"))\"\nidle-timeout = 30\n", to: file)
        let line = try await Self.hangUp(server, count: 1)
        #expect(line.hasPrefix("reloaded (SIGHUP): lockout-threshold 5 → 2;") && line.contains("access log reopened") && line.contains("a restart applies: idle-timeout"), "\(line)")
        for _ in 0..<2 { _ = try await server.request("POST", "/v1/verify", token: server.token, body: #"{"user":"alice","code":"000000"}"#) }
        let devices = try await server.json(["mfa", "list", "--user", "alice"])
        let device = try #require((devices["devices"] as? [[String: Any]])?.first { $0["serial"] as? String == alice.serial })
        #expect(device["state"] as? String == "locked", "locked after 2 failures under the reloaded threshold: \(device)")
        let rotated = try String(contentsOfFile: path("access.log.1"), encoding: .utf8)
        let fresh = try String(contentsOfFile: path("access.log"), encoding: .utf8)
        #expect(rotated.contains("\"GET /healthz\"") && !rotated.contains("/v1/verify") && fresh.contains("\"POST /v1/verify\""), "\(rotated)\n--\n\(fresh)")
        let audit = try await server.json(["audit", "list", "--action", "service"])
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(entries.count == 1 && entries.first?["detail"] as? String == "lockout-threshold 5 → 2", "\(entries)")
        // A bad file: the reason, the server still answering, no change audited.
        try Self.write("lockout-threshold = 0\n", to: file)
        let failed = try await Self.hangUp(server, count: 2)
        #expect(failed.hasPrefix("reload failed (SIGHUP); the running settings stay: --totp-window must be 0-10"), "\(failed)")
        let (status, _) = try await server.request("GET", "/healthz", token: nil)
        #expect(status == 200 && server.process.process.isRunning)
        let after = try await server.json(["audit", "list", "--action", "service"])
        #expect((after["entries"] as? [[String: Any]])?.count == 1)
    }

    @Test("SIGHUP: a renewed certificate is served to new connections without a restart; one that does not load changes nothing")
    func certificateReload() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func makeCertificate(_ name: String) async throws {
            let made = try await TestTools.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                                                    "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path(name + ".key"), "-out", path(name + ".pem")])
            try #require(made.status == 0, "openssl: \(made.stderr)")
        }
        try await makeCertificate("old")
        try await makeCertificate("new")
        try FileManager.default.copyItem(atPath: path("old.pem"), toPath: path("cert.pem"))
        try FileManager.default.copyItem(atPath: path("old.key"), toPath: path("key.pem"))
        let server = try await Server(.sqlite, extra: ["--tls-cert", path("cert.pem"), "--tls-key", path("key.pem")])
        func trusted(_ ca: String) async throws -> Bool {
            try await TestTools.run("curl", ["-s", "-m", "10", "--cacert", path(ca), "-o", "/dev/null", "-w", "%{http_code}", server.url + "/healthz"]).stdout == "200"
        }
        let (oldBefore, newBefore) = (try await trusted("old.pem"), try await trusted("new.pem"))
        #expect(oldBefore && !newBefore)
        // The renewal replaces both files at their paths.
        try FileManager.default.removeItem(atPath: path("cert.pem"))
        try FileManager.default.removeItem(atPath: path("key.pem"))
        try FileManager.default.copyItem(atPath: path("new.pem"), toPath: path("cert.pem"))
        try FileManager.default.copyItem(atPath: path("new.key"), toPath: path("key.pem"))
        let line = try await Self.hangUp(server, count: 1)
        #expect(line.contains("TLS certificate reloaded from \(path("cert.pem"))"), "\(line)")
        let (newAfter, oldAfter) = (try await trusted("new.pem"), try await trusted("old.pem"))
        #expect(newAfter && !oldAfter)
        // A half-written renewal: the running certificate stays.
        try Self.write("not a certificate\n", to: path("cert.pem"))
        let failed = try await Self.hangUp(server, count: 2)
        #expect(failed.hasPrefix("reload failed (SIGHUP); the running settings stay: cannot load the TLS certificate"), "\(failed)")
        #expect(try await trusted("new.pem"))
        // A certificate with another certificate's key (a renewal that wrote one file of two): refused,
        // not taken to fail every handshake after it.
        try FileManager.default.removeItem(atPath: path("cert.pem"))
        try FileManager.default.copyItem(atPath: path("old.pem"), toPath: path("cert.pem"))
        let mismatched = try await Self.hangUp(server, count: 3)
        #expect(mismatched.hasPrefix("reload failed (SIGHUP); the running settings stay: the TLS key"), "\(mismatched)")
        #expect(try await trusted("new.pem"))
    }

    @Test("Docs/deploy/serve.toml, the unit's settings file, starts the server with each of its settings from the file")
    func deployedFile() async throws {
        let file = TestTools.packageRoot.appendingPathComponent("Docs/deploy/serve.toml").path
        let server = try await Server(.sqlite, extra: ["--config", file])
        let expected = "settings from \(file): totp-window, hotp-look-ahead, lockout-threshold, lockout-decay, idle-timeout, request-timeout, pending-lifetime, shutdown-timeout\n"
        #expect(server.process.stdout.contains(expected), "\(server.process.stdout)")
        let (status, _) = try await server.request("GET", "/healthz", token: nil)
        #expect(status == 200)
    }
}
