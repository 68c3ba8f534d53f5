import Foundation
import TestSupport
import Testing

/// `mfactl api-key` against a running server (`--server`, admin scope) and on the local store:
/// unique names, expiry, last use, idempotent revoke, least privilege.
@Suite("API keys managed remotely and locally: mfactl api-key + serve")
struct APIKeyCLITests {
    typealias Server = ServiceEndToEndTests.Server

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "not JSON: \(result.stdout) \(result.stderr)")
    }

    @Test("create (with --expires), list with header and last use, unique names, revoke twice, unknown id — all over --server")
    func remote() async throws {
        let server = try await Server(.sqlite)
        let now = Int64(Date().timeIntervalSince1970)
        var r = try await server.mfactl(["api-key", "create", "--name", "gateway", "--scope", "verifier", "--expires", "90d", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let created = try Self.json(r)
        let key = try #require(created["key"] as? [String: Any])
        let token = try #require(created["token"] as? String)
        let id = try #require(key["id"] as? String)
        let expires = try #require(key["expiresAt"] as? Int)
        #expect(abs(Int64(expires) - (now + 90 * 86_400)) <= 5, "expires \(expires), now \(now)")
        #expect(key["lastUsedAt"] == nil && key["state"] as? String == "active")

        r = try await server.mfactl(["api-key", "create", "--name", "gateway", "--scope", "admin"])
        #expect(r.status == 2 && r.stderr.contains("an API key named 'gateway' exists"), "\(r.status) \(r.stderr)")

        r = try await server.mfactl(["api-key", "list"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") == "ID NAME SCOPES STATE CREATED EXPIRES LAST USED", "\(r.stdout)")
        let row = try #require(lines.first { $0.hasPrefix(id) }.map(String.init), "\(r.stdout)")
        #expect(row.contains("gateway") && row.contains("verifier") && row.contains("active") && row.hasSuffix("never"), "\(row)")

        // The gateway signs in once: its last use is listed.
        let verify = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "verify", "--user", "nobody", "--code", "123456"],
                                             environment: ["MFACTL_SERVER": server.url, "MFACTL_API_KEY": token])
        #expect(verify.status == 1, "a rejected code, but the key authenticated: \(verify.stderr)")
        let listed = try #require((try Self.json(try await server.mfactl(["api-key", "list", "--json"]))["keys"] as? [[String: Any]])?.first { $0["id"] as? String == id })
        let used = try #require(listed["lastUsedAt"] as? Int, "\(listed)")
        #expect(abs(Int64(used) - now) <= 60)

        // Least privilege: the verifier key cannot manage keys.
        let (status, body) = try await server.request("GET", "/v1/api-keys", token: token)
        #expect(status == 403, "\(body)")

        r = try await server.mfactl(["api-key", "revoke", "--id", id])
        #expect(r.status == 0 && r.stdout == "revoked \(id)\n", "\(r.stdout) \(r.stderr)")
        r = try await server.mfactl(["api-key", "revoke", "--id", id])
        #expect(r.status == 0 && r.stdout.contains("already revoked"), "\(r.stdout) \(r.stderr)")
        r = try await server.mfactl(["api-key", "revoke", "--id", "0123456789ab"])
        #expect(r.status == 2 && r.stderr.contains("no API key 0123456789ab") && r.stderr.contains("404"), "\(r.stderr)")
        // The request's own key cannot revoke itself (a script would cut off its own access).
        let own = try #require(server.token.split(separator: "_").dropFirst().first.map(String.init))
        r = try await server.mfactl(["api-key", "revoke", "--id", own])
        #expect(r.status == 2 && r.stderr.contains("cannot revoke itself") && r.stderr.contains("409"), "\(r.stderr)")
        // A revoked key's name is free again.
        r = try await server.mfactl(["api-key", "create", "--name", "gateway", "--scope", "verifier"])
        #expect(r.status == 0 && r.stdout.contains("shown once"), "\(r.stderr)")

        // Remote changes are audited under the admin key that made them.
        let audit = try await server.json(["audit", "list", "--order", "oldest"])
        let actions = (audit["entries"] as? [[String: Any]] ?? []).filter { ($0["action"] as? String)?.hasPrefix("apikey.") == true }
        let done = actions.filter { $0["result"] as? String == "ok" }
        #expect(done.count == 4, "\(actions)")
        #expect(done.dropFirst().allSatisfy { ($0["actor"] as? String)?.hasPrefix("key:") == true }, "\(actions)")
        // The refusals (the duplicate name, the unknown id, the key revoking itself) are audited too, under the key that tried.
        let refused = actions.filter { $0["result"] as? String == "refused" }
        #expect(refused.map { $0["action"] as? String ?? "" } == ["apikey.create", "apikey.revoke", "apikey.revoke"] && refused.allSatisfy { ($0["actor"] as? String)?.hasPrefix("key:") == true }, "\(actions)")
    }

    @Test("an expired key is refused; bad --expires and no scope are usage errors that create nothing")
    func expiry() async throws {
        let server = try await Server(.sqlite)
        // Two keys, so no check depends on how fast a busy machine runs: a day-long one is usable, a
        // one-second one is refused once its expiresAt has passed.
        var r = try await server.mfactl(["api-key", "create", "--name", "daylong", "--scope", "metrics", "--expires", "1d", "--json"])
        let dayToken = try #require(try Self.json(r)["token"] as? String)
        let dayExpires = try #require((try Self.json(r)["key"] as? [String: Any])?["expiresAt"] as? Int)
        #expect(abs(dayExpires - Int(Date().timeIntervalSince1970) - 86_400) < 600, "\(dayExpires)")
        var (status, _) = try await server.request("GET", "/metrics", token: dayToken)
        #expect(status == 200, "a key before its expiry authenticates")
        r = try await server.mfactl(["api-key", "create", "--name", "short", "--scope", "metrics", "--expires", "1s", "--json"])
        let token = try #require(try Self.json(r)["token"] as? String)
        let expiresAt = try #require((try Self.json(r)["key"] as? [String: Any])?["expiresAt"] as? Int)
        while Int(Date().timeIntervalSince1970) <= expiresAt { try await Task.sleep(for: .milliseconds(250)) }
        (status, _) = try await server.request("GET", "/metrics", token: token)
        #expect(status == 401, "an expired key no longer authenticates")
        let listed = try Self.json(try await server.mfactl(["api-key", "list", "--json"]))["keys"] as? [[String: Any]] ?? []
        #expect(listed.first { $0["name"] as? String == "short" }?["state"] as? String == "expired")
        #expect(listed.first { $0["name"] as? String == "daylong" }?["state"] as? String == "active")
        for bad in [["--expires", "soon"], ["--expires", "0s"], ["--expires", "11000d"]] {
            r = try await server.mfactl(["api-key", "create", "--name", "bad", "--scope", "admin"] + bad)
            #expect(r.status == 2 && r.stderr.contains("expir"), "\(bad): \(r.status) \(r.stderr)")
        }
        r = try await server.mfactl(["api-key", "create", "--name", "bad"])
        #expect(r.status != 0, "no scope")
        let names = (try Self.json(try await server.mfactl(["api-key", "list", "--json"]))["keys"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(!names.contains("bad"), "\(names)")
    }

    @Test("locally: list on a store that does not exist is an error; create and list work on the store")
    func local() async throws {
        let store = try LocalStore("mfa-apikey-local")
        var r = try await store.mfactl(["api-key", "list"])
        #expect(r.status == 2 && r.stderr.contains("there is no store"), "\(r.stderr)")
        r = try await store.mfactl(["api-key", "create", "--name", "ops", "--scope", "technician", "--expires", "12h"])
        #expect(r.status == 0 && r.stdout.contains("'ops' (technician), expires "), "\(r.stdout) \(r.stderr)")
        r = try await store.mfactl(["api-key", "list"])
        #expect(r.status == 0 && r.stdout.contains("ops") && r.stdout.contains("technician"), "\(r.stdout)")
    }
}
