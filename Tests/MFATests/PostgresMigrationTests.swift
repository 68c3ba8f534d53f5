import Foundation
import MFA
@_spi(Testing) @testable import MFAStorePostgres
import OTP
import Testing

/// The PostgreSQL schema's numbered steps: each applied once and recorded, a database from before
/// the record brought up to date without losing a row, a newer database refused.
@Suite("PostgreSQL migrations (numbered)")
struct PostgresMigrationTests {
    static var latest: Int64 { Int64(PostgresMFAStore.migrations.last!.version) }

    @Test("a new schema gets every step, in order, once; a second migrate applies nothing")
    func freshAndAgain() async throws {
        let h = try await Harness.make(.postgres)
        #expect(try await h.integer("SELECT COUNT(*) FROM schema_migrations") == Self.latest)
        #expect(try await h.integer("SELECT MAX(version) FROM schema_migrations") == Self.latest)
        #expect(PostgresMFAStore.migrations.map(\.version) == Array(1...Int(Self.latest)))
        try await h.raw("UPDATE schema_migrations SET applied_at = 7")
        _ = try await h.reopen()
        #expect(try await h.integer("SELECT COUNT(*) FROM schema_migrations WHERE applied_at = 7") == Self.latest)
    }

    @Test("a database from before schema_migrations: every step recorded as applied, its devices and audit kept")
    func legacyDatabase() async throws {
        let h = try await Harness.make(.postgres)
        let secret = try OTPSecret(bytes: Array("12345678901234567890".utf8))
        try await h.service.register(serial: "LEGACY-1", kind: .hardwareTOTP, secret: secret, owner: "lea", actor: "t")
        let entries = try #require(try await h.integer("SELECT COUNT(*) FROM audit"))
        try await h.raw("DROP TABLE schema_migrations")
        let reopened = try await h.reopen()
        #expect(try await h.integer("SELECT COUNT(*) FROM schema_migrations") == Self.latest)
        #expect(try await reopened.device(serial: "LEGACY-1")?.owner == "lea")
        #expect(try await h.integer("SELECT COUNT(*) FROM audit") == entries)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("a schema migrated by a newer version is refused with a clear error, and left as it is")
    func newerRefused() async throws {
        let h = try await Harness.make(.postgres)
        try await h.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(Self.latest + 1), 'from the future', 0)")
        do {
            _ = try await h.reopen()
            Issue.record("a newer schema was migrated")
        } catch let error as MFAError {
            #expect(error.code == .storeUnavailable && error.message.contains("newer than this version knows"), "\(error.message)")
        }
        #expect(try await h.integer("SELECT COUNT(*) FROM schema_migrations") == Self.latest + 1)
    }
}
