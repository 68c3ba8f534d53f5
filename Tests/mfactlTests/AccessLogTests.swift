import Foundation
import TestSupport
import Testing

/// Issue 17: `serve --access-log`: one line per request (verifies included), with the key id only
/// once it authenticated, and never a code, a token or a query string.
@Suite("serve --access-log: a line per request, no codes or keys")
struct AccessLogTests {
    @Test("verify, 401, 404 with a hostile path, a filtered audit query: each one line; no code, token or query; a bad path refuses to start")
    func lines() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-access-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logPath = directory.appendingPathComponent("access.log").path
        let server = try await ServiceEndToEndTests.Server(.sqlite, extra: ["--access-log", logPath])
        let keyID = try #require(server.token.split(separator: "_").dropFirst().first.map(String.init), "\(server.token)")

        let (status, body) = try await server.request("POST", "/v1/verify", token: server.token, body: #"{"user":"alice","code":"314159"}"#)
        #expect(status == 200 && body["result"] as? String == "rejected", "\(status) \(body)")
        let bogus = "mfa_000000000000_" + String(repeating: "x", count: 40)
        #expect(try await server.request("GET", "/v1/users/alice/devices", token: bogus).0 == 401)
        #expect(try await server.request("GET", "/v1/%22x%0A%20y", token: server.token).0 == 404)
        #expect(try await server.request("GET", "/v1/audit?user=secret-name&limit=5", token: server.token).0 == 200)

        var log = ""
        for _ in 0..<50 {
            log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if log.split(separator: "\n").count >= 4 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(log)")
        let shape = #/^127\.0\.0\.1 (key:[0-9a-f]{12}|-) \[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\] "[A-Z]+ [^" ]+" \d{3} (\d+|-) \d+\.\dms$/#
        for line in lines { #expect(line.wholeMatch(of: shape) != nil, "\(line)") }
        #expect(lines.first?.contains("key:\(keyID) ") == true && lines.first?.contains("\"POST /v1/verify\" 200 ") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("127.0.0.1 - [") == true && lines.dropFirst().first?.contains("\" 401 ") == true, "\(lines)")
        #expect(lines.contains { $0.contains("\" 404 ") && !$0.contains("\n") }, "\(lines)")
        #expect(lines.last?.contains("\"GET /v1/audit\" 200 ") == true, "\(lines)")
        for secret in ["314159", server.token, "secret-name", "xxxxxxxx", "alice\""] { #expect(!log.contains(secret), "\(secret) in \(log)") }

        let refused = try await TestTools.run(TestTools.product("mfactl"), [
            "serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + directory.appendingPathComponent("other.sqlite").path,
            "--key-file", directory.appendingPathComponent("other.key").path, "--access-log", directory.appendingPathComponent("missing/access.log").path,
        ])
        #expect(refused.status == 2 && refused.stderr.hasPrefix("error: --access-log ") && refused.stderr.contains("No such file"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("other.sqlite").path))
    }
}
