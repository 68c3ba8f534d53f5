import Foundation
import OTP
import TestSupport
import Testing

/// Opening a local store (issue 17, bug 3): a store is never given a new vault key, a key it was not
/// sealed with is refused with both key ids named and nothing created, a read-only command never makes
/// an empty store, and no command makes a missing directory other than the default data directory.
@Suite("Opening a store: the right vault key, nothing created by mistake")
struct StoreOpeningTests {
    static func fresh() throws -> URL { try LocalStore.freshDirectory("mfa-open") }

    static func mfactl(_ arguments: [String]) async throws -> ProcessResult {
        try await TestTools.run(TestTools.product("mfactl"), arguments, environment: ["MFA_VAULT_KEY": "", "MFACTL_DB": "", "MFACTL_KEY_FILE": ""], timeout: 60)
    }

    /// A vault key's id as the docs define it: the first 8 bytes of SHA-256 of the key, in hex.
    static func keyID(_ file: String) throws -> String {
        let hex = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try #require(try? Hex.decode(hex))
        return Hex.encode(Array(LibCrypto.digest(.sha256, key).prefix(8)))
    }

    @Test("SQLite: a missing or another key file on an existing store is refused, nothing is created, and the store still opens with its key")
    func wrongKeyFile() async throws {
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path
        let right = directory.appendingPathComponent("right.key").path
        let created = try await Self.mfactl(["mfa", "create-virtual", "--user", "ann", "--db", db, "--key-file", right, "--json"])
        try #require(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("new store at \(directory.path)/mfa.sqlite") && created.stderr.contains("new vault key in \(right)"), "\(created.stderr)")

        let missing = directory.appendingPathComponent("missing.key").path
        for command in [["mfa", "list", "--user", "ann"], ["mfa", "create-virtual", "--user", "bob"]] {
            let result = try await Self.mfactl(command + ["--db", db, "--key-file", missing])
            #expect(result.status != 0 && result.stderr.contains("exists but the vault key file \(missing) does not"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: missing))
        }

        let other = directory.appendingPathComponent("other.key").path
        try #require(FileManager.default.createFile(atPath: other, contents: Data((Hex.encode(LibCrypto.randomBytes(32)) + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        let refused = try await Self.mfactl(["mfa", "create-virtual", "--user", "bob", "--db", db, "--key-file", other])
        #expect(refused.status != 0, "\(refused.stdout)")
        let (rightID, otherID) = (try Self.keyID(right), try Self.keyID(other))
        #expect(refused.stderr.contains("sealed with vault key \(rightID)") && refused.stderr.contains(otherID), "\(refused.stderr)")

        // Nothing changed: one device, a whole audit chain, under the right key.
        let listed = try await Self.mfactl(["mfa", "list", "--user", "bob", "--db", db, "--key-file", right, "--json"])
        #expect(listed.status == 0 && !listed.stdout.contains("\"serial\""), "\(listed.stdout) \(listed.stderr)")
        let audit = try await Self.mfactl(["audit", "verify", "--db", db, "--key-file", right])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }

    @Test("read-only commands on a store that does not exist are errors and create nothing; no command makes a missing directory")
    func nothingCreated() async throws {
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("none.sqlite").path, key = directory.appendingPathComponent("vault.key").path
        for command in [["mfa", "list", "--user", "ann"], ["tokens", "list"], ["report", "credentials"], ["audit", "list"], ["audit", "verify"],
                        ["mfa", "diagnose", "--serial", "V1", "--code", "123456"], ["api-key", "list"]] {
            let result = try await Self.mfactl(command + ["--db", "sqlite:" + path, "--key-file", key])
            #expect(result.status != 0 && result.stderr.contains("there is no store at \(path)"), "\(command): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

        let nested = directory.appendingPathComponent("typo/dir/mfa.sqlite").path
        let result = try await Self.mfactl(["mfa", "create-virtual", "--user", "ann", "--db", "sqlite:" + nested, "--key-file", key])
        #expect(result.status != 0 && result.stderr.contains("the directory \(directory.path)/typo/dir does not exist"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("PostgreSQL: an existing store opened without its key file is refused, and the key file made for it is taken back")
    func postgresWrongKey() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["MFA_TEST_POSTGRES_URL"], "MFA_TEST_POSTGRES_URL is not set (scripts/start-postgres.sh)")
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = base + "?schema=open_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let right = directory.appendingPathComponent("right.key").path, missing = directory.appendingPathComponent("new.key").path
        let created = try await Self.mfactl(["mfa", "create-virtual", "--user", "ann", "--db", db, "--key-file", right])
        try #require(created.status == 0, "\(created.stderr)")
        let refused = try await Self.mfactl(["mfa", "create-virtual", "--user", "bob", "--db", db, "--key-file", missing])
        let rightID = try Self.keyID(right)
        #expect(refused.status != 0 && refused.stderr.contains("sealed with vault key \(rightID)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing), "the key file made for the refused open is still there")
        let audit = try await Self.mfactl(["audit", "verify", "--db", db, "--key-file", right])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }
}
