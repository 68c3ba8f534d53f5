import Foundation
import MFA
import NIOCore
import PostgresNIO

// MARK: Reading the audit chain: entries by query, the signed checkpoint

extension PostgresMFAStore {
    public func auditEntries(_ query: AuditQuery) async throws(MFAError) -> [AuditEntry] {
        // Identities match as bytes: bytea comparisons, never a collation.
        var bindings = PostgresBindings()
        var conditions: [String] = []
        func bind(_ condition: String, _ value: some PostgresNonThrowingEncodable) {
            bindings.append(value)
            conditions.append(condition.replacingOccurrences(of: "$?", with: "$\(bindings.count)"))
        }
        bind("seq > $?", query.after)
        if let before = query.before { bind("seq < $?", before) }
        if let since = query.since { bind("time >= $?", since) }
        if let user = query.user { bind("convert_to(\"user\", 'UTF8') = $?", ByteBuffer(string: user)) }
        if let serial = query.serial { bind("convert_to(serial, 'UTF8') = $?", ByteBuffer(string: serial)) }
        if let action = query.action {
            let family = ByteBuffer(string: action + ".")
            bindings.append(ByteBuffer(string: action))
            bindings.append(Int32(family.readableBytes))
            bindings.append(family)
            let n = bindings.count
            conditions.append("(convert_to(action, 'UTF8') = $\(n - 2) OR substring(convert_to(action, 'UTF8') from 1 for $\(n - 1)) = $\(n))")
        }
        bindings.append(Int64(query.limit))
        let sql = """
            SELECT seq, time, actor, action, "user", serial, result, detail, prev_hash, hash FROM audit WHERE \(conditions.joined(separator: " AND ")) \
            ORDER BY seq \(query.order == .newestFirst ? "DESC" : "ASC") LIMIT $\(bindings.count)
            """
        return try await guarded {
            try await self.client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger).collect().map { row in
                let r = row.makeRandomAccess()
                return AuditEntry(
                    sequence: try r["seq"].decode(Int64.self),
                    draft: AuditDraft(
                        time: try r["time"].decode(Int64.self), actor: try r["actor"].decode(String.self), action: try r["action"].decode(String.self),
                        user: try r["user"].decode(String?.self), serial: try r["serial"].decode(String?.self),
                        result: try r["result"].decode(String.self), detail: try r["detail"].decode(String.self)),
                    previousHash: Self.bytes(try r["prev_hash"].decode(ByteBuffer.self)), hash: Self.bytes(try r["hash"].decode(ByteBuffer.self)))
            }
        }
    }

    public func auditCheckpoint() async throws(MFAError) -> AuditCheckpoint? {
        try await guarded {
            try await self.client.query("SELECT seq, hash, mac FROM audit_checkpoint WHERE id = 1", logger: self.logger).collect().first.map { row in
                let r = row.makeRandomAccess()
                return AuditCheckpoint(
                    sequence: try r["seq"].decode(Int64.self), hash: Self.bytes(try r["hash"].decode(ByteBuffer.self)),
                    mac: Self.bytes(try r["mac"].decode(ByteBuffer.self)))
            }
        }
    }
}

// MARK: Appending to the chain

extension PostgresMFAStore {
    /// Audit entries per insert statement: 10 parameters each, under PostgreSQL's 65 535.
    static let entriesPerStatement = 2_000

    func append(_ c: PostgresConnection, _ draft: AuditDraft, chain: AuditChain? = nil) async throws {
        try await Self.append(c, [draft], chain: chain ?? self.chain, logger: logger)
    }

    /// Appends `drafts` to the chain and moves the signed checkpoint, inside the caller's transaction:
    /// the head read under the checkpoint row's lock, then the entries and the checkpoint in one
    /// statement — two round trips for any batch of up to 2 000 entries (multi-row inserts stay under
    /// PostgreSQL's 65 535 bind parameters; longer batches insert the earlier chunks first).
    ///
    /// Before the first append there is no checkpoint row to lock. Then the advisory lock serializes
    /// the appenders, and the row is looked for again under it: whoever created it held the advisory
    /// lock until its commit, so a row committed meanwhile is seen (and locked) now, and without one
    /// the head comes from the entries. `audit.seq` is the primary key besides: no interleaving can
    /// fork the chain.
    ///
    /// With `expected`, the head this process committed last, the entries are first offered after it
    /// in one round trip (``AuditAppendAfter``); only if another transaction moved the head since does
    /// the append take the locked way. Returns the new head (committed when the caller's transaction is).
    @discardableResult
    static func append(_ c: PostgresConnection, _ drafts: [AuditDraft], chain: AuditChain, logger: Logger,
                       expected: (sequence: Int64, hash: [UInt8])? = nil) async throws -> (sequence: Int64, hash: [UInt8])? {
        guard !drafts.isEmpty else { return nil }
        if let expected, drafts.count <= entriesPerStatement {
            let entries = chain.entries(after: expected, drafts)
            let last = entries[entries.count - 1]
            let statement = AuditAppendAfter(entries: entries[...], checkpoint: chain.checkpoint(for: last), expected: expected)
            if try await c.execute(statement, logger: logger).all().first == 1 { return (last.sequence, last.hash) }
        }
        var head = try await c.execute(AuditHeadLocked(), logger: logger).all().first
        if head == nil {
            _ = try await c.execute(AuditLock(), logger: logger).all()
            head = try await c.execute(AuditHeadLocked(), logger: logger).all().first
            if head == nil { head = try await c.execute(AuditHead(), logger: logger).all().first }
        }
        let entries = chain.entries(after: head, drafts)
        var start = 0
        while start < entries.count {
            let chunk = entries[start..<min(entries.count, start + entriesPerStatement)]
            start += chunk.count
            if start < entries.count {
                _ = try await c.execute(AuditInsert(entries: chunk), logger: logger).all()
            } else {
                _ = try await c.execute(AuditAppend(entries: chunk, checkpoint: chain.checkpoint(for: chunk[chunk.endIndex - 1])), logger: logger).all()
            }
        }
        return (entries[entries.count - 1].sequence, entries[entries.count - 1].hash)
    }
}
