import Foundation
import TestSupport
import Testing
import TokenDevices
import VirtualTokens

/// `enroll oath` loses nothing on a mistake (issue 17, bugs 4–6): what can be checked is checked before
/// a device exists, a failure takes back what it made, a credential already on the card is kept
/// unless `--force`, and the card's next code is the first that signs in.
extension OATHCardTests {
    /// The devices the server holds for `user` (none: an empty list).
    static func devices(_ server: ServiceEndToEndTests.Server, _ user: String) async throws -> [[String: Any]] {
        try await server.json(["mfa", "list", "--user", user])["devices"] as? [[String: Any]] ?? []
    }

    @Test("a credential of the same name on the card is refused (no device made, the card's seed kept); --force replaces it and says so")
    func enrollKeepsExistingCredential() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        let card = try await VirtualCard()
        let remote = ["--server", server.url, "--api-key", server.token]
        let add = try await card.ykman(["oath", "accounts", "add", "-f", "-o", "TOTP", "-i", "Example", "alice", Self.secret])
        try #require(add.status == 0, "ykman: \(add.stderr)")
        let refused = try await card.mfactl(["enroll", "oath", "--user", "alice", "--name", "Example:alice"] + r + remote)
        #expect(refused.status != 0 && refused.stderr.contains("already holds a credential Example:alice") && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try await Self.devices(server, "alice").isEmpty)
        let time: Int64 = 1_700_000_015
        let code = try await card.mfactl(["oath", "code"] + r + ["--name", "Example:alice", "--time", String(time)])
        let expected = try await oathtoolTOTP(Self.secret, times: [time]).first!
        #expect(code.stdout == "Example:alice\t\(expected)\n", "the first seed must still be on the card")

        let forced = try await card.mfactl(["enroll", "oath", "--user", "alice", "--name", "Example:alice", "--force"] + r + remote)
        #expect(forced.status == 0 && forced.stderr.contains("replacing the credential Example:alice"), "\(forced.stderr)")
        #expect(forced.stdout.contains("first sign-in: the card's code from "), "\(forced.stdout)")
        #expect(try await Self.devices(server, "alice").map { $0["state"] as? String } == ["active"])
        // The code the card shows now was used to enable; the next one signs in.
        let next = try await card.mfactl(["oath", "code"] + r + ["--name", "Example:alice", "--time", String(unixNow + 30), "--json"])
        let value = try #require(((try JSONSerialization.jsonObject(with: Data(next.stdout.utf8)) as? [String: Any])?["codes"] as? [[String: Any]])?.first?["code"] as? String)
        await #expect(try server.mfactl(["mfa", "verify", "--user", "alice", "--code", value]).status == 0)
    }

    @Test("a card that is password-protected (no password given) or pulled mid-enrollment leaves no pending device")
    func failedEnrollmentLeavesNothing() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        let remote = ["--server", server.url, "--api-key", server.token]
        do {
            let card = try await VirtualCard()
            let set = try await card.mfactl(["oath", "password", "set"] + r + ["--new-password", "correct horse"])
            try #require(set.status == 0, "\(set.stderr)")
            let locked = try await card.mfactl(["enroll", "oath", "--user", "bob"] + r + remote)
            #expect(locked.status != 0 && locked.stderr.contains("password-protected"), "\(locked.stderr)")
            #expect(try await Self.devices(server, "bob").isEmpty)
            await card.stop()
        }
        // SELECT and LIST (the checks) pass, then the card is gone: the device made meanwhile is deleted.
        let pulled = try await VirtualCard(["--remove-after", "2"])
        let result = try await pulled.mfactl(["enroll", "oath", "--user", "bob"] + r + remote)
        #expect(result.status != 0, "\(result.stdout)")
        #expect(try await Self.devices(server, "bob").isEmpty, "a pending device was left behind: \(result.stderr)")
        let audit = try await server.mfactl(["audit", "list", "--json"])
        #expect(audit.stdout.contains("device.delete"), "the rollback is audited: \(audit.stdout.suffix(600))")
    }
}
