import Foundation
import TestSupport
import Testing

/// The API's small contracts: unknown routes in the error shape, 401 with its scheme, bad bodies
/// named by field and JSON type (never a Swift type).
@Suite("API details: unknown routes, 401 scheme, bad bodies named by field")
struct APIDetailsTests {
    typealias Server = ServiceEndToEndTests.Server

    /// Status line, headers and body of one request (curl -i).
    static func raw(_ server: Server, _ method: String, _ path: String, token: String?, body: String? = nil) async throws -> (status: Int, head: String, body: String) {
        var arguments = ["-s", "-i", "-m", "10", "-X", method, server.url + path]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
        let out = try await TestTools.run("curl", arguments).stdout
        let parts = out.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, head, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func error(_ body: String) -> (code: String?, message: String?) {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String)
    }

    @Test("an unknown route answers 404 in the documented error shape, without echoing the path")
    func unknownRoute() async throws {
        let server = try await Server(.sqlite)
        for (method, path) in [("GET", "/nope"), ("POST", "/v1/<script>x</script>"), ("GET", "/v1/devices/a/b/c/d")] {
            let r = try await Self.raw(server, method, path, token: server.token)
            #expect(r.status == 404, "\(method) \(path): \(r.head)")
            #expect(Self.error(r.body).code == "no-such-route" && r.head.lowercased().contains("content-type: application/json"), "\(r.body)")
            #expect(!r.body.contains("script") && !r.body.contains("/nope"), "\(r.body)")
        }
    }

    @Test("401 carries WWW-Authenticate: Bearer (no key, a malformed or unknown key); 403 does not")
    func unauthorized() async throws {
        let server = try await Server(.sqlite)
        for token in [nil, "nonsense", "mfa_0123456789ab_abcdefghijklmnop"] as [String?] {
            let r = try await Self.raw(server, "GET", "/v1/audit", token: token)
            #expect(r.status == 401 && r.head.lowercased().contains("www-authenticate: bearer"), "\(token ?? "none"): \(r.head)")
        }
        let created = try await server.json(["api-key", "create", "--name", "v", "--scope", "verifier"])
        let verifier = try #require(created["token"] as? String)
        let r = try await Self.raw(server, "GET", "/v1/audit", token: verifier)
        #expect(r.status == 403 && !r.head.lowercased().contains("www-authenticate"), "\(r.head)")
    }

    @Test("a bad body names the missing or malformed field and its JSON type, on a cold and a warm key alike")
    func badBodies() async throws {
        let server = try await Server(.sqlite)
        let cases: [(String, String, String)] = [
            ("/v1/verify", #"{"user":"alice"}"#, "the request body lacks the field code"),
            ("/v1/verify", #"{"user":"alice","code":123456}"#, "the field code must be a string"),
            ("/v1/verify", #"["alice"]"#, "the request body must be a JSON object"),
            ("/v1/verify", "user=alice", "the request body is not JSON"),
            ("/v1/api-keys", #"{"name":"x","scopes":"admin"}"#, "the field scopes must be an array"),
            ("/v1/api-keys", #"{"name":"x","scopes":["admin"],"expiresInSeconds":"90d"}"#, "the field expiresInSeconds must be an integer"),
            ("/v1/devices/X/enable", #"{"user":"alice","code1":"123456"}"#, "the request body lacks the field code2"),
        ]
        for round in 1...2 {
            for (path, body, message) in cases {
                let r = try await Self.raw(server, "POST", path, token: server.token, body: body)
                let error = Self.error(r.body)
                #expect(r.status == 400 && error.code == "invalid-body" && error.message == message, "round \(round) \(path) \(body): \(r.body)")
                #expect(!(error.message ?? "").contains("Swift") && !(error.message ?? "").contains("Int64"), "\(r.body)")
            }
        }
    }
}
