import Foundation
import TestSupport
import Testing

/// Answers leak nothing internal (issue 16, item 5): when the store fails, callers get a stable code,
/// a fixed message and a request id; the detail (PostgreSQL's error, host, port, SQL) is in the log.
@Suite("Nothing internal in answers: store failures are a code, a message and a request id")
struct InternalDetailTests {
    typealias Server = ServiceEndToEndTests.Server

    @Test("PostgreSQL gone from under a running server: 503 without detail; the log has it under the request id")
    func storeFailure() async throws {
        let server = try await Server(.postgres)
        let url = try #require(ProcessInfo.processInfo.environment["MFA_TEST_POSTGRES_URL"])
        let schema = try #require(server.db.split(separator: "=").last.map(String.init))
        // Warm up (keys cached, statements prepared), then take the schema away.
        _ = try await server.request("POST", "/v1/verify", token: server.token, body: #"{"user":"nobody","code":"123456"}"#)
        let dropped = try await TestTools.run("psql", [url, "-v", "ON_ERROR_STOP=1", "-c", "DROP SCHEMA \(schema) CASCADE"])
        try #require(dropped.status == 0, "\(dropped.stderr)")
        let host = try #require(URLComponents(string: url)?.host), port = URLComponents(string: url)?.port.map(String.init) ?? "5432"
        for (method, path, body) in [("GET", "/healthz", nil), ("GET", "/v1/users/alice/devices", nil), ("POST", "/v1/devices/virtual", #"{"user":"alice"}"#)] as [(String, String, String?)] {
            let (status, answer) = try await server.request(method, path, token: server.token, body: body)
            let error = try #require(answer["error"] as? [String: Any], "\(path): \(status) \(answer)")
            #expect(status == 503 && error["code"] as? String == "store-unavailable", "\(path): \(status) \(answer)")
            let text = String(describing: answer)
            for leak in ["PostgreSQL", "PSQL", "relation", "SELECT", "INSERT", schema, host, port, "/"] {
                #expect(!(error["message"] as? String ?? "").contains(leak), "\(path) leaks \(leak): \(text)")
            }
            let id = try #require(error["requestId"] as? String)
            let deadline = Date().addingTimeInterval(10)
            var logged: String?
            while logged == nil, Date() < deadline {
                logged = (server.process.stderr + server.process.stdout).split(separator: "\n").first { $0.contains(id) }.map(String.init)
                if logged == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(logged?.contains("PostgreSQL") == true, "\(path): request id \(id) not in the server log with its detail: \(server.process.stderr)")
        }
    }
}
