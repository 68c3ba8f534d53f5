import Foundation
import MFA
import NIOCore
import PostgresNIO

// MARK: API keys and Idempotency-Key entries

extension PostgresMFAStore {
    public func insertAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError) {
        let inserted: Bool = try await transaction { c in
            // Creates take turns (a rare admin action), so the name check and the insert are one step;
            // sign-ins only read the table, which this lock mode lets through.
            _ = try await c.query("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE", logger: self.logger).collect()
            let taken = try await c.query("SELECT 1 FROM api_keys WHERE name = \(key.name) AND revoked_at IS NULL", logger: self.logger).collect().count
            guard taken == 0 else { return false }
            try await self.insertKeyRow(key, c)
            try await self.append(c, audit)
            return true
        }
        guard inserted else { throw MFAError.apiKeyNameTaken(key.name) }
    }

    public func touchAPIKey(id: String, at: Int64) async throws(MFAError) {
        _ = try await guarded {
            try await self.client.query(
                "UPDATE api_keys SET last_used_at = \(at) WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < \(at))", logger: self.logger
            ).collect()
        }
    }

    public func insertFirstAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            // Serializes first starts: a second one waits here until the first commits, then sees its key.
            _ = try await c.query("LOCK TABLE api_keys IN EXCLUSIVE MODE", logger: self.logger).collect()
            let existing = try await c.query("SELECT 1 FROM api_keys LIMIT 1", logger: self.logger).collect().count
            guard existing == 0 else { return false }
            try await self.insertKeyRow(key, c)
            try await self.append(c, audit)
            return true
        }
    }

    /// The row of a new API key (its secret's hash only), in the caller's transaction.
    func insertKeyRow(_ key: APIKeyRecord, _ c: PostgresConnection) async throws {
        _ = try await c.query("""
            INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, revoked_at, expires_at)
            VALUES (\(key.id), \(key.name), \(key.scopes.map(\.rawValue).joined(separator: ",")), \(ByteBuffer(bytes: key.secretHash)), \(key.createdAt), NULL,
                    \(key.expiresAt))
            """, logger: logger).collect()
    }

    public func apiKey(id: String) async throws(MFAError) -> APIKeyRecord? {
        try await guarded { try await self.client.query("SELECT * FROM api_keys WHERE id = \(id)", logger: self.logger).collect().map(Self.apiKey).first }
    }

    public func apiKeys() async throws(MFAError) -> [APIKeyRecord] {
        try await guarded { try await self.client.query("SELECT * FROM api_keys ORDER BY created_at, id", logger: self.logger).collect().map(Self.apiKey) }
    }

    public func revokeAPIKey(id: String, at: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            let changed = try await c.query("UPDATE api_keys SET revoked_at = \(at) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: self.logger)
                .collect().count
            guard changed == 1 else { return false }
            try await self.append(c, audit)
            return true
        }
    }

    static func apiKey(_ row: PostgresRow) throws -> APIKeyRecord {
        let r = row.makeRandomAccess()
        return APIKeyRecord(
            id: try r["id"].decode(String.self), name: try r["name"].decode(String.self),
            scopes: try r["scopes"].decode(String.self).split(separator: ",").compactMap { Scope(rawValue: String($0)) },
            secretHash: bytes(try r["secret_hash"].decode(ByteBuffer.self)), createdAt: try r["created_at"].decode(Int64.self),
            revokedAt: try r["revoked_at"].decode(Int64?.self), expiresAt: try r["expires_at"].decode(Int64?.self),
            lastUsedAt: try r["last_used_at"].decode(Int64?.self))
    }

    public func claimIdempotency(key: String, requestHash: [UInt8], now: Int64, ttl: Int64, lease: Int64) async throws(MFAError) -> IdempotencyClaim {
        try await transaction { c in
            let inserted = try await c.query("""
                INSERT INTO idempotency (key, request_hash, response, created_at) VALUES (\(key), \(ByteBuffer(bytes: requestHash)), NULL, \(now))
                ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, response = NULL, created_at = EXCLUDED.created_at
                WHERE idempotency.created_at < \(now - ttl)
                   OR (idempotency.response IS NULL AND idempotency.created_at < \(now - lease) AND idempotency.request_hash = EXCLUDED.request_hash)
                RETURNING 1
                """, logger: self.logger).collect().count
            if inserted == 1 { return .claimed }
            guard let row = try await c.query("SELECT request_hash, response FROM idempotency WHERE key = \(key)", logger: self.logger).collect().first
            else { return .claimed }
            let r = row.makeRandomAccess()
            return IdempotencyClaim(existingHash: Self.bytes(try r["request_hash"].decode(ByteBuffer.self)), response: try r["response"].decode(String?.self),
                                    requestHash: requestHash)
        }
    }

    public func purgeIdempotency(before: Int64, limit: Int) async throws(MFAError) -> Int {
        try await guarded {
            try await self.client.query("""
                DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at < \(before) LIMIT \(limit)) RETURNING 1
                """, logger: self.logger).collect().count
        }
    }

    public func completeIdempotency(key: String, response: String) async throws(MFAError) {
        _ = try await guarded { try await self.client.query("UPDATE idempotency SET response = \(response) WHERE key = \(key)", logger: self.logger).collect() }
    }

    /// Runs raw SQL: for tests that tamper with the audit log on purpose.
    @_spi(Testing) public func executeRaw(_ sql: String) async throws(MFAError) {
        _ = try await guarded { try await self.client.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).collect() }
    }

    /// The first column of the first row of `sql`, as an integer (tests read rows no API shows).
    @_spi(Testing) public func integerRaw(_ sql: String) async throws(MFAError) -> Int64? {
        try await guarded {
            try await self.client.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).collect().first.map { try $0.decode(Int64?.self) } ?? nil
        }
    }
}
