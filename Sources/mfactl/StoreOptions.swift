import ArgumentParser
import Foundation
import MFA
import MFAStorePostgres
import MFAStoreSQLite
import OTP

/// Where the local store and vault key live.
struct StoreOptions: ParsableArguments {
    @Option(help: "Store: sqlite:PATH or postgres://user:password@host:port/db (default: MFACTL_DB, else mfa.sqlite in the data directory: \(StoreOptions.dataDirectoryOrder)).")
    var db: String?

    @Option(name: .customLong("key-file"), help: "Vault key file (default: vault.key in the data directory; created 0600 on first start).")
    var keyFile: String?

    /// Where the data directory is looked up, in order (for `--help` and start-up messages).
    static let dataDirectoryOrder = "$MFA_DATA_DIR, else $XDG_DATA_HOME/mfa-bridge, else $HOME/.local/share/mfa-bridge"

    /// `$MFA_DATA_DIR`, else `$XDG_DATA_HOME/mfa-bridge`, else `$HOME/.local/share/mfa-bridge` (the
    /// environment's `HOME`, as every XDG tool reads it: not the password database's home, which would
    /// be another admin's store under `sudo` or a test's `HOME=`).
    static var dataDirectory: String { dataDirectory(environment: ProcessInfo.processInfo.environment) }

    static func dataDirectory(environment env: [String: String]) -> String {
        func setting(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let dir = setting("MFA_DATA_DIR") { return dir }
        let base = setting("XDG_DATA_HOME") ?? ((setting("HOME") ?? NSHomeDirectory()) + "/.local/share")
        return base + "/mfa-bridge"
    }

    var effectiveDB: String { db ?? Self.setting("MFACTL_DB") ?? "sqlite:\(Self.dataDirectory)/mfa.sqlite" }
    var effectiveKeyFile: String { keyFile ?? Self.setting("MFACTL_KEY_FILE") ?? "\(Self.dataDirectory)/vault.key" }

    /// An environment variable's value; empty counts as unset.
    static func setting(_ name: String) -> String? { ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The default policy with what the environment sets for every command (`MFA_PENDING_LIFETIME`),
    /// so a local command and `serve` on one store expire pending devices alike.
    static func environmentPolicy() throws -> Policy {
        var policy = Policy()
        if let text = setting("MFA_PENDING_LIFETIME") { policy.pendingLifetimeSeconds = try pendingLifetime(text, from: "MFA_PENDING_LIFETIME") }
        return policy
    }

    /// A pending lifetime (`24h`, `7d`, seconds) from `source`, within 1 second to 365 days.
    static func pendingLifetime(_ text: String, from source: String) throws -> Int64 {
        guard let seconds = SecondsText.parse(text), (1...31_536_000).contains(seconds) else {
            throw CLIError("\(source) must be a time from 1s to 365d (for example 24h or 7d), got '\(text)'")
        }
        return seconds
    }

    /// Where the vault key comes from, for start-up messages (never the key itself).
    var keySource: String {
        Self.setting("MFA_VAULT_KEY") == nil ? effectiveKeyFile : "MFA_VAULT_KEY"
    }

    /// Opens the vault and the store, and migrates it. A new store (and its vault key) is created only
    /// when `mustExist` is false, and then said on standard error; an existing store is never given a
    /// new vault key, and a key it was not sealed with is refused with nothing created. Only the default
    /// data directory is created: any other missing directory is an error.
    func openService(policy: Policy = Policy(), mustExist: Bool = false) async throws -> MFAService {
        // Whatever this process creates from here on (the data directory, the SQLite database and its
        // WAL files) is its owner's alone, from the moment it exists: no window with another mode.
        umask(0o077)
        let db = effectiveDB
        let sqlitePath: String? = db.hasPrefix("sqlite:") ? String(db.dropFirst("sqlite:".count)) : nil
        guard sqlitePath != nil || db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") else {
            throw CLIError("--db must be sqlite:PATH or postgres://…, got '\(db)'")
        }
        let manager = FileManager.default
        // Known for SQLite; for PostgreSQL the store itself tells (its recorded vault key).
        let storeExists = sqlitePath.map { manager.fileExists(atPath: $0) }
        if let sqlitePath, storeExists == false {
            guard !mustExist else {
                throw CLIError("there is no store at \(sqlitePath): this command reads an existing one (--db, MFACTL_DB, or the data directory: \(Self.dataDirectoryOrder))")
            }
            try Self.prepareDirectory(of: sqlitePath)
        }
        // The key from the environment (64 hex characters) wins over the key file, for secret managers.
        let vault: SecretVault
        var createdKeyFile: String?
        if let hex = Self.setting("MFA_VAULT_KEY") {
            guard let key = try? Hex.decode(hex), key.count == 32 else { throw CLIError("MFA_VAULT_KEY must hold 64 hex characters") }
            vault = try SecretVault(key: key)
        } else if manager.fileExists(atPath: effectiveKeyFile) {
            vault = try SecretVault(keyFile: effectiveKeyFile, create: false)
        } else {
            if storeExists == true {
                throw CLIError("the store \(sqlitePath!) exists but the vault key file \(effectiveKeyFile) does not: pass --key-file (or MFA_VAULT_KEY) "
                    + "with the key it was created with. Nothing was created.")
            }
            guard !mustExist else { throw CLIError("the vault key file \(effectiveKeyFile) does not exist (--key-file, MFACTL_KEY_FILE or MFA_VAULT_KEY)") }
            try Self.prepareDirectory(of: effectiveKeyFile)
            // Of several processes starting together one writes the key, the others read it.
            vault = try SecretVault(keyFile: effectiveKeyFile, create: true)
            createdKeyFile = effectiveKeyFile
        }
        let chain = AuditChain(vault: vault)
        let store: any MFAStore
        if let sqlitePath { store = try SQLiteMFAStore(path: sqlitePath, chain: chain) } else { store = try PostgresMFAStore(url: db, chain: chain) }
        do {
            try await store.migrate()
        } catch {
            // An existing store refused the key this call just made: take the new key file back.
            if error.code == .vault, let createdKeyFile { try? manager.removeItem(atPath: createdKeyFile) }
            throw error
        }
        if let sqlitePath, storeExists == false { FileHandle.standardError.write(Data("mfactl: new store at \(sqlitePath)\n".utf8)) }
        if let createdKeyFile { FileHandle.standardError.write(Data("mfactl: new vault key in \(createdKeyFile) (mode 0600): back it up; without it no secret opens\n".utf8)) }
        return MFAService(store: store, vault: vault, policy: policy, clock: { Int64(Date().timeIntervalSince1970) })
    }

    /// A missing directory for a new file: the default data directory is made (0700); any other is an
    /// error, so a typo in a path never grows a new tree.
    static func prepareDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        guard directory == dataDirectory else { throw CLIError("the directory \(directory) does not exist (only the default data directory is created)") }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
    }

    /// The store's location without credentials, for messages.
    var redactedDB: String {
        guard let url = URLComponents(string: effectiveDB), url.password != nil else { return effectiveDB }
        var copy = url
        copy.password = "***"
        return copy.string ?? "postgres://…"
    }
}
