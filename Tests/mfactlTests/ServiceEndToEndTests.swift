import Foundation
import TestSupport
import Testing

/// `mfactl serve` as a real process, driven over loopback HTTP by `mfactl`'s remote commands, with
/// codes from oathtool — on SQLite and on PostgreSQL.
@Suite("Service end to end: mfactl serve + remote mfactl + oathtool")
struct ServiceEndToEndTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    final class Server {
        let process: BackgroundProcess
        let url: String
        let token: String
        let directory: URL
        let db: String
        let keyFile: String

        /// Starts `mfactl serve` on a fresh store (or on `dbOverride`, sharing `keyFile`).
        init(_ store: Store, extra: [String] = [], dbOverride: String? = nil, keyFile sharedKey: String? = nil, environment: [String: String] = [:]) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            keyFile = sharedKey ?? directory.appendingPathComponent("vault.key").path
            switch store {
            case .sqlite:
                db = dbOverride ?? "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path
            case .postgres:
                let base = try #require(ProcessInfo.processInfo.environment["MFA_TEST_POSTGRES_URL"], "MFA_TEST_POSTGRES_URL is not set (scripts/start-postgres.sh)")
                db = dbOverride ?? base + "?schema=e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            }
            let arguments = ["serve", "--listen", "127.0.0.1:0", "--key-file", keyFile, "--db", db] + extra
            process = try BackgroundProcess(TestTools.product("mfactl"), arguments, environment: environment.merging(["MFA_DATA_DIR": directory.path]) { old, _ in old })
            try #require(await process.waitForOutput("listening on http", timeout: 30), "server did not start: \(process.stdout) \(process.stderr)")
            let out = process.stdout
            url = try #require(out.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) })
            if let printed = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.hasPrefix("mfa_") }) {
                token = String(printed)
            } else {
                // A restarted server or a second process prints no key: make one on the shared store.
                let created = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "create", "--name", "test", "--scope", "admin", "--db", db, "--key-file", keyFile, "--json"])
                let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any]
                token = try #require(object?["token"] as? String, "api-key create: \(created.stderr)")
            }
        }

        deinit {
            process.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func mfactl(_ arguments: [String]) async throws -> ProcessResult {
            try await TestTools.run(TestTools.product("mfactl"), arguments, environment: ["MFACTL_SERVER": url, "MFACTL_API_KEY": token], timeout: 60)
        }

        /// One request with curl: the status and the body as a JSON object (empty when it is none).
        func request(_ method: String, _ path: String, token: String?, body: String? = nil) async throws -> (Int, [String: Any]) {
            var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url + path]
            if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
            if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
            let out = try await TestTools.run("curl", arguments).stdout
            let parts = out.split(separator: "\n")
            let status = Int(parts.last ?? "0") ?? 0
            let json = (try? JSONSerialization.jsonObject(with: Data(parts.dropLast().joined(separator: "\n").utf8))) as? [String: Any] ?? [:]
            return (status, json)
        }

        func json(_ arguments: [String]) async throws -> [String: Any] {
            let result = try await mfactl(arguments + ["--json"])
            try #require(result.status == 0, "mfactl \(arguments): \(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
    }

    static func oathtool(_ secret: String, at time: Int64) async throws -> String {
        try await TestTools.run("oathtool", ["--totp", "-b", "-N", "@\(time)", secret]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    @Test("enroll → enable → verify once → lock after 10 failures → unlock → 10-minute drift rejected, resynced, accepted → report",
          arguments: Store.allCases)
    func lifecycle(store: Store) async throws {
        // A ±2 step window, so the test can use a second future code without waiting 30 s for the clock.
        let server = try await Server(store, extra: ["--totp-window", "2"])
        // Enroll a virtual device (its QR code decodes to the exact URI) and enable it with oathtool's codes.
        let png = server.directory.appendingPathComponent("alice.png").path
        let created = try await server.json(["mfa", "create-virtual", "--user", "alice", "--issuer", "Example", "--qr", "png:" + png])
        let decoded = try await TestTools.run("zbarimg", ["--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", png]).stdout
        #expect(decoded.trimmingCharacters(in: .newlines) == created["uri"] as? String)
        #expect((created["qrPNG"] as? String).flatMap { Data(base64Encoded: $0) }?.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let serial = try #require(created["serial"] as? String)
        let secret = try #require(created["secret"] as? String)
        #expect((created["uri"] as? String)?.hasPrefix("otpauth://totp/Example:alice?secret=\(secret)") == true)
        let t0 = Self.now
        var r = try await server.mfactl(["mfa", "enable", "--user", "alice", "--serial", serial, "--code1", try Self.oathtool(secret, at: t0 - 30), "--code2", try Self.oathtool(secret, at: t0)])
        #expect(r.status == 0, "\(r.stderr)")
        // Accepted once, then a replay.
        let next = try await Self.oathtool(secret, at: t0 + 30)
        r = try await server.mfactl(["mfa", "verify", "--user", "alice", "--code", next])
        #expect(r.status == 0 && r.stdout.hasPrefix("accepted"), "\(r.stdout) \(r.stderr)")
        r = try await server.mfactl(["mfa", "verify", "--user", "alice", "--code", next])
        #expect(r.status == 1 && r.stdout == "rejected\n")
        // Ten wrong codes lock it; a right code is then refused too, with the same answer.
        let wrong = String(format: "%06d", (Int(next)! + 500_000) % 1_000_000)
        for _ in 0..<10 { _ = try await server.mfactl(["mfa", "verify", "--user", "alice", "--code", wrong]) }
        let devices = try await server.json(["mfa", "list", "--user", "alice"])["devices"] as? [[String: Any]]
        #expect(devices?.first?["state"] as? String == "locked", "\(String(describing: devices))")
        let metrics = try await TestTools.run("curl", ["-s", "-m", "10", "-H", "Authorization: Bearer \(server.token)", server.url + "/metrics"]).stdout
        #expect(metrics.contains("\nmfa_lockouts_total 1\n"), "\(metrics)")
        #expect(server.process.stderr.contains("device locked after repeated failed codes") && server.process.stderr.contains(serial), "the lock is logged: \(server.process.stderr.suffix(600))")
        let later = try await Self.oathtool(secret, at: t0 + 60)
        r = try await server.mfactl(["mfa", "verify", "--user", "alice", "--code", later])
        #expect(r.status == 1 && r.stdout == "rejected\n")
        r = try await server.mfactl(["mfa", "unlock", "--serial", serial])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await server.mfactl(["mfa", "verify", "--user", "alice", "--code", later])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")

        // A second device whose clock runs 10 minutes ahead.
        let bob = try await server.json(["mfa", "create-virtual", "--user", "bob"])
        let bobSerial = try #require(bob["serial"] as? String)
        let bobSecret = try #require(bob["secret"] as? String)
        let t1 = Self.now
        r = try await server.mfactl(["mfa", "enable", "--user", "bob", "--serial", bobSerial, "--code1", try Self.oathtool(bobSecret, at: t1 - 30), "--code2", try Self.oathtool(bobSecret, at: t1)])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await server.mfactl(["mfa", "verify", "--user", "bob", "--code", try Self.oathtool(bobSecret, at: t1 + 600)])
        #expect(r.status == 1)
        let diagnosis = try await server.json(["mfa", "diagnose", "--serial", bobSerial, "--code", try Self.oathtool(bobSecret, at: t1 + 630)])
        // Ahead of the sign-in window: found, without the offset (no code oracle, Docs/service.md).
        #expect(diagnosis["found"] as? Bool == true && diagnosis["aheadOfSignInWindow"] as? Bool == true && diagnosis["offset"] == nil, "\(diagnosis)")
        // Codes from 2 days ahead are beyond the resync window, and the error says how far it reaches.
        r = try await server.mfactl(["mfa", "resync", "--user", "bob", "--serial", bobSerial, "--code1", try Self.oathtool(bobSecret, at: t1 + 172_800), "--code2", try Self.oathtool(bobSecret, at: t1 + 172_830)])
        #expect(r.status != 0 && r.stderr.contains("invalid-code") && r.stderr.contains("±2880 steps of 30 s, ±1d around the server's time"), "\(r.status) \(r.stderr)")
        r = try await server.mfactl(["mfa", "resync", "--user", "bob", "--serial", bobSerial, "--code1", try Self.oathtool(bobSecret, at: t1 + 630), "--code2", try Self.oathtool(bobSecret, at: t1 + 660)])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await server.mfactl(["mfa", "verify", "--user", "bob", "--code", try Self.oathtool(bobSecret, at: t1 + 690)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")

        // The report shows both users, bob's drift, and alice's device unlocked.
        r = try await server.mfactl(["report", "credentials", "--format", "csv"])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "user,mfa_active,serial,kind,state,enabled_at,last_used_at,drift_seconds,failure_count,locked")
        let bobRow = try #require(lines.first { $0.hasPrefix("bob,") }).split(separator: ",").map(String.init)
        #expect(bobRow[1] == "true" && bobRow[4] == "active" && (Int(bobRow[7]) ?? 0) >= 600 && (Int(bobRow[7]) ?? 0) <= 720)
        #expect(lines.contains { $0.hasPrefix("alice,true,\(serial),virtual-totp,active,") })
        r = try await server.mfactl(["audit", "verify"])
        #expect(r.status == 0 && r.stdout.hasPrefix("audit chain intact"), "\(r.stdout)")
        #expect(!r.stdout.contains(secret))
        // SIGTERM shuts the server down gracefully (exit status 0, well within the 10 s grace).
        let started = Date()
        await #expect(server.process.stop(grace: 10) == 0, "\(server.process.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("scopes: no key 401, wrong scope 403, verifier may only verify; errors have one JSON shape")
    func scopes() async throws {
        let server = try await Server(.sqlite)
        let keyFile = server.directory.appendingPathComponent("vault.key").path
        let db = "sqlite:" + server.directory.appendingPathComponent("mfa.sqlite").path
        let create = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "create", "--name", "gateway", "--scope", "verifier", "--db", db, "--key-file", keyFile, "--json"])
        #expect(create.status == 0, "\(create.stderr)")
        let verifier = try #require((try JSONSerialization.jsonObject(with: Data(create.stdout.utf8)) as? [String: Any])?["token"] as? String)
        func request(_ method: String, _ path: String, token: String?, body: String? = nil) async throws -> (Int, [String: Any]) {
            try await server.request(method, path, token: token, body: body)
        }
        var (status, body) = try await request("POST", "/v1/verify", token: nil, body: #"{"user":"a","code":"123456"}"#)
        #expect(status == 401 && (body["error"] as? [String: Any])?["code"] as? String == "unauthenticated")
        (status, body) = try await request("POST", "/v1/devices/virtual", token: verifier, body: #"{"user":"a"}"#)
        #expect(status == 403 && (body["error"] as? [String: Any])?["code"] as? String == "forbidden")
        (status, body) = try await request("POST", "/v1/verify", token: verifier, body: #"{"user":"nobody","code":"123456"}"#)
        #expect(status == 200 && body["result"] as? String == "rejected")
        let (status2, body2) = try await request("POST", "/v1/verify", token: verifier, body: #"{"user":"nobody","code":"12x"}"#)
        #expect(status2 == status && body2.keys.sorted() == body.keys.sorted() && body2["result"] as? String == "rejected")
        (status, body) = try await request("POST", "/v1/verify", token: verifier, body: "not json")
        #expect(status == 400 && (body["error"] as? [String: Any])?["code"] as? String == "invalid-body")
        (status, body) = try await request("GET", "/v1/devices/nope/whatever", token: server.token)
        #expect(status == 404)
        (status, body) = try await request("PUT", "/v1/devices/NOPE/unlock", token: server.token)
        #expect(status == 405 && (body["error"] as? [String: Any])?["code"] as? String == "method-not-allowed")
        (status, body) = try await request("POST", "/v1/devices/NOPE/unlock", token: server.token)
        #expect(status == 404 && (body["error"] as? [String: Any])?["code"] as? String == "no-such-device")
        (status, _) = try await request("GET", "/healthz", token: nil)
        #expect(status == 200)
        // /metrics takes a key with the metrics scope (or admin): not public, not for a gateway's key.
        (status, body) = try await request("GET", "/metrics", token: nil)
        #expect(status == 401 && (body["error"] as? [String: Any])?["code"] as? String == "unauthenticated")
        (status, body) = try await request("GET", "/metrics", token: verifier)
        #expect(status == 403, "\(body)")
        let scraperKey = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "create", "--name", "prometheus", "--scope", "metrics", "--db", db, "--key-file", keyFile, "--json"])
        let scraper = try #require((try JSONSerialization.jsonObject(with: Data(scraperKey.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let scraped = try await TestTools.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(scraper)", server.url + "/metrics"]).stdout
        #expect(scraped == "200")
        (status, body) = try await request("POST", "/v1/verify", token: scraper, body: #"{"user":"nobody","code":"123456"}"#)
        #expect(status == 403, "a metrics key verified: \(body)")
        // Every error carries a request id, a fresh one each time.
        let (_, first) = try await request("POST", "/v1/devices/NOPE/unlock", token: server.token)
        let (_, second) = try await request("POST", "/v1/devices/NOPE/unlock", token: server.token)
        let ids = [first, second].compactMap { ($0["error"] as? [String: Any])?["requestId"] as? String }
        #expect(ids.count == 2 && ids[0] != ids[1] && ids.allSatisfy { $0.count == 16 }, "\(ids)")
        let metrics = try await TestTools.run("curl", ["-s", "-H", "Authorization: Bearer \(server.token)", server.url + "/metrics"]).stdout
        #expect(metrics.contains("mfa_verify_total{result=\"rejected\"} 2") && metrics.contains("mfa_verify_duration_seconds_count 2"))
        // A key revoked on the store stops working in the running server within the 2 s key cache lifetime.
        let verifierID = try #require(verifier.split(separator: "_").dropFirst().first.map(String.init))
        let revoke = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "revoke", "--id", verifierID, "--db", db, "--key-file", keyFile])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        try await Task.sleep(for: .milliseconds(2_500))
        (status, body) = try await request("POST", "/v1/verify", token: verifier, body: #"{"user":"nobody","code":"123456"}"#)
        #expect(status == 401, "\(body)")
    }

    @Test("TLS: HTTPS with the given certificate; plain HTTP to the TLS port gets nowhere")
    func tls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try await TestTools.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                                                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert])
        try #require(made.status == 0, "openssl: \(made.stderr)")
        let server = try await Server(.sqlite, extra: ["--tls-cert", cert, "--tls-key", key])
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let ok = try await TestTools.run("curl", ["-s", "--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}", server.url + "/healthz"])
        #expect(ok.stdout == "200", "\(ok.stderr)")
        let plain = try await TestTools.run("curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", server.url.replacingOccurrences(of: "https", with: "http") + "/healthz"])
        #expect(plain.stdout != "200")
        let untrusted = try await TestTools.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/healthz"])
        #expect(untrusted.status != 0)  // curl refuses a certificate it cannot verify
        // Verifies over TLS: the first through the router (it fills the key cache), the second on the
        // fast path inside the TLS pipeline, on one connection.
        let body = #"{"user":"nobody","code":"123456"}"#
        let arguments = ["-s", "--cacert", cert, "-H", "Authorization: Bearer \(server.token)", "-H", "Content-Type: application/json", "-d", body]
        let verifies = try await TestTools.run("curl", arguments + [server.url + "/v1/verify", "--next"] + arguments + [server.url + "/v1/verify"])
        #expect(verifies.stdout == #"{"result":"rejected"}{"result":"rejected"}"#, "\(verifies.stdout) \(verifies.stderr)")
        let metrics = try await TestTools.run("curl", ["-s", "--cacert", cert, "-H", "Authorization: Bearer \(server.token)", server.url + "/metrics"]).stdout
        #expect(metrics.contains("\nmfa_http_fast_path_total \(VerifyFastPathTests.fastPathAnswers(1))\n"), "\(metrics)")
        // TLS 1.2 and 1.3 only; under 1.2 only ECDHE with AEAD. (SECLEVEL=0 lets this client offer
        // what OpenSSL 3 would not, so a refusal is the server's.)
        let address = try #require(server.url.split(separator: "/").last.map(String.init))
        func handshake(_ options: [String]) async throws -> Int32 {
            try await TestTools.run("openssl", ["s_client", "-connect", address, "-CAfile", cert] + options, timeout: 30).status
        }
        #expect(try await handshake(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]) != 0, "TLS 1.1 was accepted")
        #expect(try await handshake(["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]) != 0, "TLS 1.0 was accepted")
        #expect(try await handshake(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA@SECLEVEL=0"]) != 0, "a CBC suite was accepted")
        #expect(try await handshake(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]) == 0)
        #expect(try await handshake(["-tls1_3"]) == 0)
    }
}
