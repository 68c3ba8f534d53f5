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
        if let dir = env["MFA_DATA_DIR"], !dir.isEmpty { return dir }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.local/share")
        return base + "/mfa-bridge"
    }

    var effectiveDB: String { db ?? Self.setting("MFACTL_DB") ?? "sqlite:\(Self.dataDirectory)/mfa.sqlite" }
    var effectiveKeyFile: String { keyFile ?? Self.setting("MFACTL_KEY_FILE") ?? "\(Self.dataDirectory)/vault.key" }

    /// An environment variable's value; empty counts as unset.
    static func setting(_ name: String) -> String? { ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// Where the vault key comes from, for start-up messages (never the key itself).
    var keySource: String {
        if let hex = ProcessInfo.processInfo.environment["MFA_VAULT_KEY"], !hex.isEmpty { return "MFA_VAULT_KEY" }
        return effectiveKeyFile
    }

    /// Opens the vault (creating its key on first use) and the store, and migrates it.
    func openService(policy: Policy = Policy()) async throws -> MFAService {
        // Whatever this process creates from here on (the data directory, the SQLite database and its
        // WAL files) is its owner's alone, from the moment it exists: no window with another mode.
        umask(0o077)
        // The key from the environment (64 hex characters) wins over the key file, for secret managers.
        let vault: SecretVault
        if let hex = ProcessInfo.processInfo.environment["MFA_VAULT_KEY"], !hex.isEmpty {
            guard let key = try? Hex.decode(hex), key.count == 32 else { throw CLIError("MFA_VAULT_KEY must hold 64 hex characters") }
            vault = try SecretVault(key: key)
        } else {
            vault = try SecretVault(keyFile: effectiveKeyFile, create: true)
        }
        let chain = AuditChain(vault: vault)
        let store: any MFAStore
        let db = effectiveDB
        if db.hasPrefix("sqlite:") {
            store = try SQLiteMFAStore(path: String(db.dropFirst("sqlite:".count)), chain: chain)
        } else if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") {
            store = try PostgresMFAStore(url: db, chain: chain)
        } else {
            throw CLIError("--db must be sqlite:PATH or postgres://…, got '\(db)'")
        }
        try await store.migrate()
        return MFAService(store: store, vault: vault, policy: policy, clock: { Int64(Date().timeIntervalSince1970) })
    }

    /// The store's location without credentials, for messages.
    var redactedDB: String {
        guard let url = URLComponents(string: effectiveDB), url.password != nil else { return effectiveDB }
        var copy = url
        copy.password = "***"
        return copy.string ?? "postgres://…"
    }
}
