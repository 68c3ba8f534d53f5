import Foundation
import TestSupport
import Testing

/// Path parameters are percent-decoded (issue 17, bug 2): a user name with a space, CJK, a slash or a
/// percent sign reaches the same devices through `--server` as through the local store, on every
/// route that takes one in its path.
@Suite("Remote CLI: names in paths are percent-decoded on every route")
struct RemotePathTests {
    static let names = ["alice smith", "用户", "a/b", "100%", "q?x#y"]

    @Test("create, list (remote and local agree), enable, diagnose, resync, deactivate, unlock, delete for each name")
    func everyRoute() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite, extra: ["--totp-window", "2"])
        let local = ["--db", server.db, "--key-file", server.keyFile]
        for user in Self.names {
            let created = try await server.json(["mfa", "create-virtual", "--user", user])
            let serial = try #require(created["serial"] as? String), secret = try #require(created["secret"] as? String)
            let remote = try await server.mfactl(["mfa", "list", "--user", user, "--json"])
            let stored = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "list", "--user", user, "--json"] + local)
            #expect(remote.status == 0 && remote.stdout.contains(serial), "\(user): \(remote.stdout) \(remote.stderr)")
            #expect(stored.stdout.contains(serial), "\(user): \(stored.stdout) \(stored.stderr)")
            let t = ServiceEndToEndTests.now
            let enabled = try await server.mfactl(["mfa", "enable", "--user", user, "--serial", serial,
                                                   "--code1", try await ServiceEndToEndTests.oathtool(secret, at: t - 30),
                                                   "--code2", try await ServiceEndToEndTests.oathtool(secret, at: t)])
            #expect(enabled.status == 0, "\(user): \(enabled.stderr)")
            let diagnosed = try await server.mfactl(["mfa", "diagnose", "--serial", serial, "--code", try await ServiceEndToEndTests.oathtool(secret, at: t + 30), "--json"])
            #expect(diagnosed.status == 0, "\(user): \(diagnosed.stderr)")
            let resynced = try await server.mfactl(["mfa", "resync", "--user", user, "--serial", serial,
                                                    "--code1", try await ServiceEndToEndTests.oathtool(secret, at: t + 30),
                                                    "--code2", try await ServiceEndToEndTests.oathtool(secret, at: t + 60)])
            #expect(resynced.status == 0, "\(user): \(resynced.stderr)")
            // Unlock reaches the device (and answers that it is not locked: a wrong lookup would be "not found").
            let unlocked = try await server.mfactl(["mfa", "unlock", "--serial", serial])
            #expect(unlocked.status == 0 && unlocked.stdout.contains("\(serial) is not locked (nothing changed)"), "\(user): \(unlocked.stdout) \(unlocked.stderr)")
            let deactivated = try await server.mfactl(["mfa", "deactivate", "--serial", serial])
            #expect(deactivated.status == 0 && deactivated.stdout.contains("\(serial) deactivated"), "\(user): \(deactivated.stderr)")
            // Idempotent: again is success, and says nothing changed.
            let again = try await server.mfactl(["mfa", "deactivate", "--serial", serial])
            #expect(again.status == 0 && again.stdout.contains("\(serial) was already deactivated (nothing changed)"), "\(user): \(again.stdout) \(again.stderr)")
            let deleted = try await server.mfactl(["mfa", "delete", "--serial", serial])
            #expect(deleted.status == 0, "\(user) delete: \(deleted.stderr)")
            let after = try await TestTools.run(TestTools.product("mfactl"), ["mfa", "list", "--user", user, "--json"] + local)
            #expect(!after.stdout.contains(serial), "\(user): deleted through the server, still stored: \(after.stdout)")
        }
        // A malformed escape is refused as such, not looked up as another name.
        let (status, body) = try await server.request("GET", "/v1/users/al%zzice/devices", token: server.token)
        #expect(status == 400 && (body["error"] as? [String: Any])?["code"] as? String == "invalid-input", "\(status) \(body)")
        let (encoded, listed) = try await server.request("GET", "/v1/users/alice%20smith/devices", token: server.token)
        #expect(encoded == 200 && (listed["devices"] as? [Any])?.isEmpty == true, "\(encoded) \(listed)")
    }
}
