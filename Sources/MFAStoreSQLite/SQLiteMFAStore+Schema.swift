import Foundation
import GRDB
import MFA

// MARK: Schema and migrations

extension SQLiteMFAStore {
    public func migrate() async throws(MFAError) {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE devices (
                    serial TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    owner TEXT,
                    state TEXT NOT NULL,
                    algorithm TEXT NOT NULL,
                    digits INTEGER NOT NULL,
                    period INTEGER NOT NULL,
                    counter INTEGER NOT NULL,
                    watermark INTEGER NOT NULL,
                    drift_steps INTEGER NOT NULL,
                    drift_history TEXT NOT NULL,
                    failure_count INTEGER NOT NULL,
                    lockouts INTEGER NOT NULL,
                    locked_until INTEGER,
                    created_at INTEGER NOT NULL,
                    enabled_at INTEGER,
                    last_used_at INTEGER,
                    sealed_secret BLOB NOT NULL,
                    revision INTEGER NOT NULL
                );
                CREATE INDEX devices_owner ON devices(owner);
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY NOT NULL,
                    time INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    user TEXT,
                    serial TEXT,
                    result TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    prev_hash BLOB NOT NULL,
                    hash BLOB NOT NULL
                );
                CREATE TABLE audit_checkpoint (
                    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    mac BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-api-keys") { db in
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    secret_hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                """)
        }
        migrator.registerMigration("v3-idempotency") { db in
            try db.execute(sql: """
                CREATE TABLE idempotency (
                    key TEXT PRIMARY KEY NOT NULL,
                    request_hash BLOB NOT NULL,
                    response TEXT,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-seed-fingerprints") { db in
            try db.execute(sql: """
                ALTER TABLE devices ADD COLUMN seed_fingerprint BLOB;
                CREATE INDEX devices_seed_fingerprint ON devices(seed_fingerprint);
                """)
        }
        migrator.registerMigration("v5-idempotency-expiry") { db in
            try db.execute(sql: "CREATE INDEX idempotency_created_at ON idempotency(created_at)")
        }
        migrator.registerMigration("v6-last-failure") { db in
            try db.execute(sql: "ALTER TABLE devices ADD COLUMN last_failure_at INTEGER")
        }
        migrator.registerMigration("v7-decoy") { db in
            // The row a rejection without a usable device counts its failure on, with a device's
            // failure columns (see `fail(_:policy:now:_:)`).
            try db.execute(sql: """
                CREATE TABLE decoy (
                    serial TEXT PRIMARY KEY NOT NULL CHECK (serial = ''),
                    state TEXT NOT NULL,
                    failure_count INTEGER NOT NULL,
                    lockouts INTEGER NOT NULL,
                    locked_until INTEGER,
                    last_failure_at INTEGER,
                    revision INTEGER NOT NULL
                );
                INSERT INTO decoy (serial, state, failure_count, lockouts, locked_until, last_failure_at, revision) VALUES ('', 'active', 0, 0, NULL, NULL, 0);
                """)
        }
        migrator.registerMigration("v8-vault-key") { db in
            // The id of the vault key the secrets are sealed with (see `checkVaultKey`).
            try db.execute(sql: "CREATE TABLE vault_key (id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1), key_id BLOB NOT NULL)")
        }
        migrator.registerMigration("v9-pending-devices") { db in
            // Pending enrollments across users (listed, and expired by `MFAService.expirePending`).
            // Partial: a sign-in's update sets `state` on active rows, which this index never holds,
            // so the hot path writes no entry of it (and a device's failure costs what the decoy's does).
            try db.execute(sql: "CREATE INDEX devices_pending_created ON devices(created_at) WHERE state = 'pending'")
        }
        migrator.registerMigration("v10-api-key-expiry") { db in
            // Expiry and last use; names unique among keys not revoked. Keys of older stores that share
            // a name keep the oldest's, the others get their id appended (no key is lost or changed).
            try db.execute(sql: """
                ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
                ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
                UPDATE api_keys SET name = name || ' (' || id || ')' WHERE revoked_at IS NULL AND EXISTS (
                    SELECT 1 FROM api_keys older WHERE older.revoked_at IS NULL AND older.name = api_keys.name
                      AND (older.created_at < api_keys.created_at OR (older.created_at = api_keys.created_at AND older.id < api_keys.id)));
                CREATE UNIQUE INDEX api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;
                """)
        }
        // Processes that start together on a new database race to migrate it: one applies a migration,
        // the other fails on it ("table already exists") and, retried, finds it applied.
        for attempt in 1...10 {
            do {
                try await guarded { try migrator.migrate(self.pool) }
                try await checkVaultKey()
                return
            } catch let error as MFAError where error.code == .vault {
                throw error
            } catch where attempt < 10 {
                try? await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    /// Records the vault key id on first use (a store from before the record takes it from a sealed
    /// secret) and refuses another key: opened with the wrong key file, the store changes nothing.
    func checkVaultKey() async throws(MFAError) {
        let given = chain.vaultKeyID
        let recorded: [UInt8] = try await guarded {
            try await self.pool.write { db in
                try db.execute(sql: """
                    INSERT OR IGNORE INTO vault_key (id, key_id)
                    SELECT 1, COALESCE((SELECT substr(sealed_secret, 2, 8) FROM devices WHERE length(sealed_secret) >= 9 LIMIT 1), ?)
                    """, arguments: [Data(given)])
                return [UInt8](try Data.fetchOne(db, sql: "SELECT key_id FROM vault_key WHERE id = 1") ?? Data())
            }
        }
        guard recorded == given else { throw MFAError.vaultKeyMismatch(recorded: recorded, given: given) }
    }
}
