import Foundation
import GRDB
import MFA

// MARK: The audit chain: entries, the signed checkpoint

extension SQLiteMFAStore {
    public func appendAudit(_ draft: AuditDraft) async throws(MFAError) {
        try await write(keepsDevices: true) { db in try self.append(db, draft) }
    }

    public func auditEntries(_ query: AuditQuery) async throws(MFAError) -> [AuditEntry] {
        // Identities match as bytes: BLOB comparisons, never a collation.
        var conditions: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        func add(_ condition: String, _ bound: (any DatabaseValueConvertible)...) {
            conditions.append(condition)
            values += bound
        }
        add("seq > ?", query.after)
        if let before = query.before { add("seq < ?", before) }
        if let since = query.since { add("time >= ?", since) }
        if let user = query.user { add("CAST(user AS BLOB) = ?", Data(user.utf8)) }
        if let serial = query.serial { add("CAST(serial AS BLOB) = ?", Data(serial.utf8)) }
        if let action = query.action {
            let family = Data((action + ".").utf8)
            add("(CAST(action AS BLOB) = ? OR substr(CAST(action AS BLOB), 1, ?) = ?)", Data(action.utf8), family.count, family)
        }
        values.append(query.limit)
        let arguments = StatementArguments(values)
        let sql = "SELECT * FROM audit WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq \(query.order == .newestFirst ? "DESC" : "ASC") LIMIT ?"
        return try await read { db in
            try db.rows(sql: sql, arguments: arguments).map { row in
                AuditEntry(
                    sequence: row["seq"],
                    draft: AuditDraft(time: row["time"], actor: row["actor"], action: row["action"], user: row["user"], serial: row["serial"],
                                      result: row["result"], detail: row["detail"]),
                    previousHash: [UInt8](row["prev_hash"] as Data), hash: [UInt8](row["hash"] as Data))
            }
        }
    }

    public func auditCheckpoint() async throws(MFAError) -> AuditCheckpoint? {
        try await read { db in
            try db.row(sql: "SELECT seq, hash, mac FROM audit_checkpoint WHERE id = 1").map { row in
                AuditCheckpoint(sequence: row["seq"], hash: [UInt8](row["hash"] as Data), mac: [UInt8](row["mac"] as Data))
            }
        }
    }

    /// Appends to the hash chain and moves the signed checkpoint, inside the caller's transaction.
    func append(_ db: Database, _ draft: AuditDraft, chain: AuditChain? = nil) throws {
        try append(db, [draft], chain: chain)
    }

    /// Appends several entries in order, inside the caller's transaction. The head comes from the
    /// writer's cache (one lookup after a foreign commit or a failure); the signed checkpoint is moved
    /// once, to the last entry, before the transaction commits (``writeCheckpoint(_:chain:_:)``).
    func append(_ db: Database, _ drafts: [AuditDraft], chain: AuditChain? = nil) throws {
        guard !drafts.isEmpty else { return }
        let chain = chain ?? self.chain
        var head: (sequence: Int64, hash: [UInt8])?
        switch cache.head {
        case .entry(let sequence, let hash): head = (sequence, hash)
        case .unknown: head = try Self.auditHead(db)
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO audit (seq, time, actor, action, user, serial, result, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for draft in drafts {
            let entry = chain.entry(after: head, draft)
            let d = entry.draft
            _ = try RowBinder.run(insert, in: db) { row in
                row.add(entry.sequence)
                row.add(d.time)
                row.add(d.actor)
                row.add(d.action)
                row.add(d.user)
                row.add(d.serial)
                row.add(d.result)
                row.add(d.detail)
                row.add(entry.previousHash)
                row.add(entry.hash)
            }
            head = (entry.sequence, entry.hash)
        }
        if let head { cache.appended(sequence: head.sequence, hash: head.hash, chain: chain) }
    }

    /// The chain's last entry as stored.
    static func auditHead(_ db: Database) throws -> (sequence: Int64, hash: [UInt8])? {
        try RowBinder.first(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"), in: db, { _ in }) { row in
            (row.int64(0), row.bytes(1))
        }
    }

    /// Moves the signed checkpoint to the entry `due` names (nothing when nothing is due).
    static func writeCheckpoint(_ due: WriterCache.CheckpointDue?, chain: AuditChain, _ db: Database) throws {
        let checkpoint: AuditCheckpoint
        switch due {
        case nil: return
        case .entry(let sequence, let hash, let signer): checkpoint = signer.checkpoint(sequence: sequence, hash: hash)
        case .head:
            guard let head = try auditHead(db) else { return }
            checkpoint = chain.checkpoint(sequence: head.sequence, hash: head.hash)
        }
        _ = try RowBinder.run(db.cachedStatement(sql: """
            INSERT INTO audit_checkpoint (id, seq, hash, mac) VALUES (1, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac
            """), in: db) { row in
            row.add(checkpoint.sequence)
            row.add(checkpoint.hash)
            row.add(checkpoint.mac)
        }
    }
}
