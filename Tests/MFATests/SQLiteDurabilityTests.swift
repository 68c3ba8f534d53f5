import Foundation
import MFA
import OTP
@_spi(Testing) import MFAStoreSQLite
import Testing

/// An accepted code's watermark must survive a power loss, or the code could be used again: every
/// commit of the writer is synced (`synchronous = FULL`), although GRDB's WAL set-up sets NORMAL.
@Suite("SQLite durability: the writer syncs every commit")
struct SQLiteDurabilityTests {
    @Test("the writer connection runs with synchronous = FULL, on a new file and on a reopened one")
    func writerIsFull() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let chain = AuditChain(vault: try SecretVault(key: LibCrypto.randomBytes(32)))
        let store = try SQLiteMFAStore(path: path, chain: chain)
        try await store.migrate()
        #expect(try await store.writerSynchronous() == 2)
        let reopened = try SQLiteMFAStore(path: path, chain: chain)
        try await reopened.migrate()
        #expect(try await reopened.writerSynchronous() == 2)
    }
}
