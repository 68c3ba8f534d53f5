import Foundation
import MFA
import NIOCore
import PostgresNIO

// MARK: Schema

extension PostgresMFAStore {
    func createSchema() async throws(MFAError) {
        try await guarded {
            try await self.client.withTransaction(logger: self.logger) { c in
                _ = try await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':mfa-migrate'))", logger: self.logger).collect()
                if let schema = self.schema {
                    _ = try await c.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: self.logger).collect()
                }
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS devices (
                        serial TEXT PRIMARY KEY,
                        kind TEXT NOT NULL,
                        owner TEXT,
                        state TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        digits BIGINT NOT NULL,
                        period BIGINT NOT NULL,
                        counter BIGINT NOT NULL,
                        watermark BIGINT NOT NULL,
                        drift_steps BIGINT NOT NULL,
                        drift_history TEXT NOT NULL,
                        failure_count BIGINT NOT NULL,
                        lockouts BIGINT NOT NULL,
                        locked_until BIGINT,
                        created_at BIGINT NOT NULL,
                        enabled_at BIGINT,
                        last_used_at BIGINT,
                        sealed_secret BYTEA NOT NULL,
                        revision BIGINT NOT NULL
                    )
                    """, logger: self.logger).collect()
                _ = try await c.query("CREATE INDEX IF NOT EXISTS devices_owner ON devices(owner)", logger: self.logger).collect()
                _ = try await c.query("ALTER TABLE devices ADD COLUMN IF NOT EXISTS seed_fingerprint BYTEA", logger: self.logger).collect()
                _ = try await c.query("ALTER TABLE devices ADD COLUMN IF NOT EXISTS last_failure_at BIGINT", logger: self.logger).collect()
                _ = try await c.query("CREATE INDEX IF NOT EXISTS devices_seed_fingerprint ON devices(seed_fingerprint)", logger: self.logger).collect()
                // Partial, so that a sign-in's update (which sets `state` on active rows) stays a HOT update.
                _ = try await c.query(
                    "CREATE INDEX IF NOT EXISTS devices_pending_created ON devices(created_at) WHERE state = 'pending'", logger: self.logger).collect()
                // The row a rejection without a usable device counts its failure on, with a device's
                // failure columns (`FailureBatch.decoySQL`).
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS decoy (
                        serial TEXT PRIMARY KEY CHECK (serial = ''),
                        state TEXT NOT NULL,
                        failure_count BIGINT NOT NULL,
                        lockouts BIGINT NOT NULL,
                        locked_until BIGINT,
                        last_failure_at BIGINT,
                        revision BIGINT NOT NULL
                    )
                    """, logger: self.logger).collect()
                _ = try await c.query("""
                    INSERT INTO decoy (serial, state, failure_count, lockouts, locked_until, last_failure_at, revision)
                    VALUES ('', 'active', 0, 0, NULL, NULL, 0) ON CONFLICT (serial) DO NOTHING
                    """, logger: self.logger).collect()
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS audit (
                        seq BIGINT PRIMARY KEY,
                        time BIGINT NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        "user" TEXT,
                        serial TEXT,
                        result TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        prev_hash BYTEA NOT NULL,
                        hash BYTEA NOT NULL
                    )
                    """, logger: self.logger).collect()
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS idempotency (
                        key TEXT PRIMARY KEY,
                        request_hash BYTEA NOT NULL,
                        response TEXT,
                        created_at BIGINT NOT NULL
                    )
                    """, logger: self.logger).collect()
                _ = try await c.query("CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at)", logger: self.logger).collect()
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS api_keys (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        secret_hash BYTEA NOT NULL,
                        created_at BIGINT NOT NULL,
                        revoked_at BIGINT
                    )
                    """, logger: self.logger).collect()
                // Expiry and last use; names unique among keys not revoked (older stores' duplicates keep
                // the oldest's name, the others get their id appended).
                _ = try await c.query("ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_at BIGINT", logger: self.logger).collect()
                _ = try await c.query("ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS last_used_at BIGINT", logger: self.logger).collect()
                _ = try await c.query("""
                    UPDATE api_keys SET name = name || ' (' || id || ')' WHERE revoked_at IS NULL AND EXISTS (
                        SELECT 1 FROM api_keys older WHERE older.revoked_at IS NULL AND older.name = api_keys.name
                          AND (older.created_at, older.id) < (api_keys.created_at, api_keys.id))
                    """, logger: self.logger).collect()
                _ = try await c.query(
                    "CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL", logger: self.logger).collect()
                _ = try await c.query("""
                    CREATE TABLE IF NOT EXISTS audit_checkpoint (
                        id BIGINT PRIMARY KEY CHECK (id = 1),
                        seq BIGINT NOT NULL,
                        hash BYTEA NOT NULL,
                        mac BYTEA NOT NULL
                    )
                    """, logger: self.logger).collect()
                _ = try await c.query(PostgresQuery(unsafeSQL: Self.batchConflictFunction), logger: self.logger).collect()
                // The id of the vault key the secrets are sealed with: recorded on first use (a store
                // from before the record takes it from a sealed secret); another key is refused.
                _ = try await c.query("CREATE TABLE IF NOT EXISTS vault_key (id BIGINT PRIMARY KEY CHECK (id = 1), key_id BYTEA NOT NULL)", logger: self.logger).collect()
                _ = try await c.query("""
                    INSERT INTO vault_key (id, key_id)
                    SELECT 1, COALESCE((SELECT substring(sealed_secret from 2 for 8) FROM devices WHERE length(sealed_secret) >= 9 LIMIT 1),
                                       \(ByteBuffer(bytes: self.chain.vaultKeyID)))
                    ON CONFLICT (id) DO NOTHING
                    """, logger: self.logger).collect()
                let recorded = try await c.query("SELECT key_id FROM vault_key WHERE id = 1", logger: self.logger).collect()
                    .first.map { Self.bytes(try $0.decode(ByteBuffer.self)) } ?? []
                guard recorded == self.chain.vaultKeyID else { throw MFAError.vaultKeyMismatch(recorded: recorded, given: self.chain.vaultKeyID) }
            }
        }
    }
}
