import Foundation
@testable import MFA
import OTP
import Testing

/// The conformance suite's vault-key cases: rotation, and a store that refuses a key it was not sealed with.
extension StoreConformanceTests {
    @Test("vault rotation re-seals every secret in one transaction; the old key no longer opens them", arguments: StoreKind.inThisRun)
    func rotation(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("mia")
        let newVault = try SecretVault(key: LibCrypto.randomBytes(32))
        #expect(try await h.service.rotate(to: newVault, actor: "admin") == 1)
        let device = try #require(try await h.store.device(serial: serial))
        #expect(try newVault.open(device.sealedSecret, serial: serial).constantTimeEquals(secret))
        #expect(throws: MFAError(.vault, "")) { try h.vault.open(device.sealedSecret, serial: serial) }
        // A sealed secret moved to another serial does not open.
        #expect(throws: MFAError(.vault, "")) { try newVault.open(device.sealedSecret, serial: "OTHER") }
        let rotated = MFAService(store: try await h.reopenWith(newVault), vault: newVault, clock: { h.clock.now })
        #expect(try await rotated.verifyAuditChain().ok)
        // The store records the key it is sealed with: the old key is now refused at open.
        await #expect(throws: MFAError(.vault, "")) { _ = try await h.reopen() }
    }

    @Test("a store opened with another vault key is refused before anything changes; a store from before the record is checked against its sealed secrets", arguments: StoreKind.inThisRun)
    func wrongVaultKey(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, _) = try await h.enrolledVirtual("otto")
        let other = try SecretVault(key: LibCrypto.randomBytes(32))
        let before = try await h.service.auditEntries(after: 0, limit: 1_000).count
        do {
            _ = try await h.reopenWith(other)
            Issue.record("opened with another key")
        } catch let error as MFAError {
            #expect(error.code == .vault && error.message.contains(Hex.encode(h.vault.keyID)) && error.message.contains(Hex.encode(other.keyID)), "\(error.message)")
        }
        #expect(try await h.service.auditEntries(after: 0, limit: 1_000).count == before)
        // A store whose record is missing (made before it existed) takes the key id of its sealed secrets.
        try await h.raw("DELETE FROM vault_key")
        await #expect(throws: MFAError(.vault, "")) { _ = try await h.reopenWith(other) }
        try await h.raw("DELETE FROM vault_key")
        let same = MFAService(store: try await h.reopen(), vault: h.vault, clock: { h.clock.now })
        #expect(try await same.list(user: "otto").map(\.serial) == [serial])
        #expect(try await h.integer("SELECT count(*) FROM vault_key") == 1)
    }
}
