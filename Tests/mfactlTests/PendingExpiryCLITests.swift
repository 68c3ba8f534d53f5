import Foundation
import TestSupport
import Testing

/// Issue 17, bug 8 through the CLI: `mfa list --state pending` across users, locally and against a
/// server whose sweeper deletes lapsed enrollments (`--pending-lifetime`), audited.
@Suite("Pending expiry through mfactl: list across users, serve's sweep, the local limit")
struct PendingExpiryCLITests {
    static func object(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout) \(result.stderr)")
    }

    @Test("serve --pending-lifetime 20s: pending devices of all users are listed with their expiry, then swept and audited")
    func serverSweeps() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite, extra: ["--pending-lifetime", "20s"])
        var serials: [String] = []
        for user in ["alice smith", "用户"] {
            serials.append(try #require(try await server.json(["mfa", "create-virtual", "--user", user])["serial"] as? String))
        }
        let listed = try #require(try await server.json(["mfa", "list", "--state", "pending"])["devices"] as? [[String: Any]])
        // Across users, oldest first (the two may share a second: then by serial).
        let order = listed.compactMap { d in (d["createdAt"] as? Int).map { ($0, d["serial"] as? String ?? "") } }
        #expect(Set(listed.compactMap { $0["serial"] as? String }) == Set(serials) && order.count == 2 && (order[0].0, order[0].1) < (order[1].0, order[1].1))
        #expect(listed.allSatisfy { ($0["expiresAt"] as? Int).map { $0 > 0 } == true && $0["state"] as? String == "pending" })
        let text = try await server.mfactl(["mfa", "list", "--state", "pending"])
        #expect(text.stdout.hasPrefix("SERIAL") && text.stdout.contains("expires 20"), "\(text.stdout)")
        // The sweep runs every 2 s for a 20 s lifetime (long enough for the listing above on a busy machine).
        var left = listed.count
        for _ in 0..<120 where left > 0 {
            try await Task.sleep(for: .milliseconds(500))
            left = (try await server.json(["mfa", "list", "--state", "pending"])["devices"] as? [[String: Any]])?.count ?? -1
        }
        #expect(left == 0, "lapsed enrollments were swept")
        let entries = try #require(try await server.json(["audit", "list", "--limit", "1000"])["entries"] as? [[String: Any]])
        let expired = entries.filter { $0["action"] as? String == "device.expire" }
        #expect(Set(expired.compactMap { $0["serial"] as? String }) == Set(serials) && expired.allSatisfy { $0["actor"] as? String == "serve" })
        #expect(server.process.stdout.contains("pending device expired") || server.process.stderr.contains("pending device expired"))
    }

    @Test("locally (MFA_PENDING_LIFETIME=1s): eight abandoned enrollments stop blocking the user once lapsed")
    func localLimit() async throws {
        let store = try LocalStore("mfa-pending")
        let env = ["MFA_PENDING_LIFETIME": "1s"]
        func mfactl(_ arguments: [String]) async throws -> ProcessResult {
            try await TestTools.run(TestTools.product("mfactl"), arguments + store.arguments, environment: env)
        }
        for _ in 0..<8 { #expect(try await mfactl(["mfa", "create-virtual", "--user", "pat"]).status == 0) }
        try await Task.sleep(for: .seconds(2))
        let lapsed = try await mfactl(["mfa", "list", "--user", "pat", "--state", "pending"])
        #expect(lapsed.stdout.components(separatedBy: "expired 20").count == 9, "\(lapsed.stdout)")
        let ninth = try await mfactl(["mfa", "create-virtual", "--user", "pat", "--json"])
        #expect(ninth.status == 0, "\(ninth.stderr)")
        let devices = try #require(try Self.object(try await mfactl(["mfa", "list", "--user", "pat", "--json"]))["devices"] as? [[String: Any]])
        #expect(devices.count == 1)
        let bad = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "list", "--state", "pending"] + store.arguments, environment: ["MFA_PENDING_LIFETIME": "soon"])
        #expect(bad.status != 0 && bad.stderr.contains("MFA_PENDING_LIFETIME"), "\(bad.stderr)")
        let neither = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "list"] + store.arguments)
        #expect(neither.status == 64 && neither.stderr.contains("--user"), "\(neither.status) \(neither.stderr)")
    }
}
