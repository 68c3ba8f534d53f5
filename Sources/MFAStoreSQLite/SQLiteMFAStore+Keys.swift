import Foundation
import GRDB
import MFA

// MARK: API keys and Idempotency-Key entries

extension SQLiteMFAStore {
    public func insertAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError) {
        // The writer's transaction is IMMEDIATE: the name check and the insert are one step (and the
        // partial unique index api_keys_active_name backs it).
        let inserted: Bool = try await write(keepsDevices: true) { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE name = ? AND revoked_at IS NULL", arguments: [key.name]) == 0 else {
                return false
            }
            try Self.insertKeyRow(key, db)
            try self.append(db, audit)
            return true
        }
        guard inserted else { throw MFAError.apiKeyNameTaken(key.name) }
    }

    /// The row of a new API key (its secret's hash only).
    static func insertKeyRow(_ key: APIKeyRecord, _ db: Database) throws {
        try db.run(sql: "INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                   arguments: [key.id, key.name, key.scopes.map(\.rawValue).joined(separator: ","), Data(key.secretHash), key.createdAt, key.expiresAt])
    }

    public func touchAPIKey(id: String, at: Int64) async throws(MFAError) {
        try await write(keepsDevices: true) { db in
            try db.run(sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)", arguments: [at, id, at])
        }
    }

    public func insertFirstAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError) -> Bool {
        // The writer's transaction is IMMEDIATE: it holds the database's write lock from its start, so
        // the count and the insert are one step for every process sharing the file.
        try await write(keepsDevices: true) { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys") == 0 else { return false }
            try Self.insertKeyRow(key, db)
            try self.append(db, audit)
            return true
        }
    }

    public func apiKey(id: String) async throws(MFAError) -> APIKeyRecord? {
        try await read { db in try db.row(sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey) }
    }

    public func apiKeys() async throws(MFAError) -> [APIKeyRecord] {
        try await read { db in try db.rows(sql: "SELECT * FROM api_keys ORDER BY created_at, id").map(Self.apiKey) }
    }

    public func revokeAPIKey(id: String, at: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write(keepsDevices: true) { db in
            try db.run(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [at, id])
            guard db.changesCount == 1 else { return false }
            try self.append(db, audit)
            return true
        }
    }

    static func apiKey(_ row: Row) -> APIKeyRecord {
        APIKeyRecord(id: row["id"], name: row["name"], scopes: (row["scopes"] as String).split(separator: ",").compactMap { Scope(rawValue: String($0)) },
                     secretHash: [UInt8](row["secret_hash"] as Data), createdAt: row["created_at"], revokedAt: row["revoked_at"],
                     expiresAt: row["expires_at"], lastUsedAt: row["last_used_at"])
    }

    public func claimIdempotency(key: String, requestHash: [UInt8], now: Int64, ttl: Int64, lease: Int64) async throws(MFAError) -> IdempotencyClaim {
        try await write(keepsDevices: true) { db in
            try db.run(sql: """
                INSERT INTO idempotency (key, request_hash, response, created_at) VALUES (?1, ?2, NULL, ?3)
                ON CONFLICT(key) DO UPDATE SET request_hash = excluded.request_hash, response = NULL, created_at = excluded.created_at
                WHERE idempotency.created_at < ?4
                   OR (idempotency.response IS NULL AND idempotency.created_at < ?5 AND idempotency.request_hash = excluded.request_hash)
                """, arguments: [key, Data(requestHash), now, now - ttl, now - lease])
            if db.changesCount == 1 { return .claimed }
            guard let row = try db.row(sql: "SELECT request_hash, response FROM idempotency WHERE key = ?", arguments: [key]) else { return .claimed }
            return IdempotencyClaim(existingHash: [UInt8](row["request_hash"] as Data), response: row["response"], requestHash: requestHash)
        }
    }

    public func purgeIdempotency(before: Int64, limit: Int) async throws(MFAError) -> Int {
        try await write(keepsDevices: true) { db in
            try db.run(sql: "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE created_at < ? LIMIT ?)", arguments: [before, limit])
            return db.changesCount
        }
    }

    public func completeIdempotency(key: String, response: String) async throws(MFAError) {
        try await write(keepsDevices: true) { db in try db.run(sql: "UPDATE idempotency SET response = ? WHERE key = ?", arguments: [response, key]) }
    }
}
