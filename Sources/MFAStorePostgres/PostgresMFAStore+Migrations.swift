import Foundation
import MFA
import NIOCore
import PostgresNIO

/// One numbered step of the schema's history: run once per database, in order, inside the migration
/// transaction, and recorded in `schema_migrations` (GRDB's migrator does the same for SQLite).
struct PostgresMigration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
}

extension PostgresMFAStore {
    /// The schema's history. A step is never edited once released: a change is a new step.
    ///
    /// Databases created before `schema_migrations` existed already hold everything through step 8;
    /// each of those steps is a no-op there (`IF NOT EXISTS`, conditional inserts), so the first
    /// migration of such a database records them as applied and changes nothing.
    static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "devices, audit, idempotency, api keys", statements: [
            """
            CREATE TABLE IF NOT EXISTS devices (
                serial TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT, state TEXT NOT NULL, algorithm TEXT NOT NULL,
                digits BIGINT NOT NULL, period BIGINT NOT NULL, counter BIGINT NOT NULL, watermark BIGINT NOT NULL,
                drift_steps BIGINT NOT NULL, drift_history TEXT NOT NULL, failure_count BIGINT NOT NULL, lockouts BIGINT NOT NULL,
                locked_until BIGINT, created_at BIGINT NOT NULL, enabled_at BIGINT, last_used_at BIGINT,
                sealed_secret BYTEA NOT NULL, revision BIGINT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS devices_owner ON devices(owner)",
            """
            CREATE TABLE IF NOT EXISTS audit (
                seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "user" TEXT, serial TEXT,
                result TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL)
            """,
            "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, request_hash BYTEA NOT NULL, response TEXT, created_at BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at)",
            """
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL, secret_hash BYTEA NOT NULL,
                created_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
        ]),
        PostgresMigration(version: 2, name: "seed fingerprints (duplicate seeds found without plaintext)", statements: [
            "ALTER TABLE devices ADD COLUMN IF NOT EXISTS seed_fingerprint BYTEA",
            "CREATE INDEX IF NOT EXISTS devices_seed_fingerprint ON devices(seed_fingerprint)",
        ]),
        PostgresMigration(version: 3, name: "lockout decay, and the decoy row", statements: [
            "ALTER TABLE devices ADD COLUMN IF NOT EXISTS last_failure_at BIGINT",
            // The row a rejection without a usable device counts its failure on, with a device's
            // failure columns (`FailureBatch.decoySQL`).
            """
            CREATE TABLE IF NOT EXISTS decoy (
                serial TEXT PRIMARY KEY CHECK (serial = ''), state TEXT NOT NULL, failure_count BIGINT NOT NULL,
                lockouts BIGINT NOT NULL, locked_until BIGINT, last_failure_at BIGINT, revision BIGINT NOT NULL)
            """,
            """
            INSERT INTO decoy (serial, state, failure_count, lockouts, locked_until, last_failure_at, revision)
            VALUES ('', 'active', 0, 0, NULL, NULL, 0) ON CONFLICT (serial) DO NOTHING
            """,
        ]),
        // Partial, so that a sign-in's update (which sets `state` on active rows) stays a HOT update.
        PostgresMigration(version: 4, name: "pending devices by age", statements: [
            "CREATE INDEX IF NOT EXISTS devices_pending_created ON devices(created_at) WHERE state = 'pending'",
        ]),
        // Names unique among keys not revoked: older stores' duplicates keep the oldest's name, the
        // others get their id appended.
        PostgresMigration(version: 5, name: "API key expiry, last use, unique active names", statements: [
            "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_at BIGINT",
            "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS last_used_at BIGINT",
            """
            UPDATE api_keys SET name = name || ' (' || id || ')' WHERE revoked_at IS NULL AND EXISTS (
                SELECT 1 FROM api_keys older WHERE older.revoked_at IS NULL AND older.name = api_keys.name
                  AND (older.created_at, older.id) < (api_keys.created_at, api_keys.id))
            """,
            "CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL",
        ]),
        PostgresMigration(version: 6, name: "signed audit checkpoint", statements: [
            "CREATE TABLE IF NOT EXISTS audit_checkpoint (id BIGINT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash BYTEA NOT NULL, mac BYTEA NOT NULL)",
        ]),
        // The id of the vault key the secrets are sealed with, recorded on first use (``recordVaultKey``).
        PostgresMigration(version: 7, name: "vault key record", statements: [
            "CREATE TABLE IF NOT EXISTS vault_key (id BIGINT PRIMARY KEY CHECK (id = 1), key_id BYTEA NOT NULL)",
        ]),
    ]

    /// Brings the schema up to date under a transaction-scoped advisory lock (several processes may
    /// start at once): the steps not yet applied, the functions of this version, and the vault key
    /// check. A database migrated by a newer version is refused, not guessed at.
    func createSchema() async throws(MFAError) {
        try await guarded {
            try await self.client.withTransaction(logger: self.logger) { c in
                _ = try await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':mfa-migrate'))", logger: self.logger).collect()
                if let schema = self.schema {
                    _ = try await c.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: self.logger).collect()
                }
                _ = try await c.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                    logger: self.logger).collect()
                let applied = Set(try await c.query("SELECT version FROM schema_migrations", logger: self.logger).collect().map { try $0.decode(Int64.self) })
                let known = Int64(Self.migrations.last?.version ?? 0)
                if let newest = applied.max(), newest > known {
                    throw MFAError(.storeUnavailable, "the PostgreSQL schema is at migration \(newest), newer than this version knows (\(known)); run the newer mfactl")
                }
                let now = Int64(Date().timeIntervalSince1970)
                for migration in Self.migrations where !applied.contains(Int64(migration.version)) {
                    for statement in migration.statements { _ = try await c.query(PostgresQuery(unsafeSQL: statement), logger: self.logger).collect() }
                    _ = try await c.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(Int64(migration.version)), \(migration.name), \(now))",
                        logger: self.logger).collect()
                }
                // Code, not schema: each version installs its own.
                _ = try await c.query(PostgresQuery(unsafeSQL: Self.batchConflictFunction), logger: self.logger).collect()
                try await self.recordVaultKey(c)
            }
        }
    }

    /// Records the vault key on first use (a store from before the record takes it from a sealed
    /// secret) and refuses another key.
    private func recordVaultKey(_ c: PostgresConnection) async throws {
        _ = try await c.query("""
            INSERT INTO vault_key (id, key_id)
            SELECT 1, COALESCE((SELECT substring(sealed_secret from 2 for 8) FROM devices WHERE length(sealed_secret) >= 9 LIMIT 1),
                               \(ByteBuffer(bytes: chain.vaultKeyID)))
            ON CONFLICT (id) DO NOTHING
            """, logger: logger).collect()
        let recorded = try await c.query("SELECT key_id FROM vault_key WHERE id = 1", logger: logger).collect()
            .first.map { Self.bytes(try $0.decode(ByteBuffer.self)) } ?? []
        guard recorded == chain.vaultKeyID else { throw MFAError.vaultKeyMismatch(recorded: recorded, given: chain.vaultKeyID) }
    }
}
