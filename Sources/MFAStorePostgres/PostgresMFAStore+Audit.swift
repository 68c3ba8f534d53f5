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
