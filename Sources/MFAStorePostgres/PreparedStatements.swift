import Foundation
import MFA
import NIOCore
import PostgresNIO

// The statements of the sign-in path, prepared once per connection: no parse, plan or row
// description per request or per batch. Each has a fixed text; batches bind arrays (`unnest`).

extension PostgresMFAStore {
    /// The devices of some users, ordered by serial: one user (`devices(owner:)`) or every user of a
    /// group-commit batch of sign-ins.
    struct DevicesOfOwners: PostgresPreparedStatement {
        static let name = "mfa_devices_of_owners"
        static let sql = "SELECT * FROM devices WHERE owner = ANY($1::TEXT[]) ORDER BY serial"
        typealias Row = DeviceRecord
        let owners: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(owners)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> DeviceRecord { try PostgresDeviceRow.record(row) }
    }

    /// Accepts of distinct devices: each a compare-and-set on the replay watermark. Returns the
    /// serials that took.
    struct AcceptBatch: PostgresPreparedStatement {
        static let name = "mfa_accept_batch"
        static let sql = """
            UPDATE devices d SET watermark = a.step, counter = a.counter, drift_steps = a.drift, drift_history = a.history,
                last_used_at = a.now, failure_count = 0, lockouts = 0, locked_until = NULL, state = 'active', revision = d.revision + 1
            FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[]) AS a(serial, step, counter, drift, history, now)
            WHERE d.serial = a.serial AND d.watermark < a.step
                AND (d.state = 'active' OR (d.state = 'locked' AND d.locked_until IS NOT NULL AND d.locked_until <= a.now))
            RETURNING d.serial
            """
        typealias Row = String
        let accepts: [Acceptance]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bind(into: &bindings)
            return bindings
        }

        /// Appends this statement's parameters (also for statements that embed it).
        func bind(into bindings: inout PostgresBindings) {
            bindings.append(accepts.map(\.serial))
            bindings.append(accepts.map(\.step))
            bindings.append(accepts.map(\.counter))
            bindings.append(accepts.map(\.driftSteps))
            bindings.append(accepts.map { StoreSupport.driftHistoryText($0.driftHistory) })
            bindings.append(accepts.map(\.now))
        }

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// Failures under one policy, one row per device with how many failures it takes: each counts
    /// one failure and locks at the threshold, with a delay doubling per lockout. Returns each changed
    /// serial and its new state.
    ///
    /// `n` failures of one device in a row act like `n` single failures (the lock delay is never
    /// zero, see `PostgresGroupCommit`): they count until the threshold, the one that reaches it locks,
    /// and the rest find the device locked and change nothing. A device whose lock has expired, or
    /// that is already at the threshold, takes one failure and locks again.
    struct FailureBatch: PostgresPreparedStatement {
        static let name = "mfa_failure_batch_n"
        /// The device's count so far, forgotten after a quiet period of `$7` seconds (0: never).
        private static let base = "(CASE WHEN $7::BIGINT > 0 AND d.last_failure_at IS NOT NULL AND f.now - d.last_failure_at >= $7::BIGINT THEN 0 ELSE d.failure_count END)"
        /// The failures a device takes: all of them, or as many as bring it to the threshold.
        private static let taken = "LEAST(f.n, GREATEST(1, $1 - \(base)))"
        /// The devices' and the decoy's updates. The decoy's (a data-modifying `WITH` nobody reads) runs
        /// after the devices' update: rows are locked devices first, then the decoy, then the audit
        /// checkpoint, as in ``BatchInOneStatement``.
        static let sql = "WITH decoyed AS (\(decoySQL)) \(devicesSQL)"
        /// Failures on ``Decoy/serial`` (a sign-in without a usable device) update the one decoy row
        /// with the devices' statement itself, under a threshold never reached (the decoy never locks):
        /// the same kind of row write as a wrong code's, which an update matching no device would not
        /// make (and so take less time).
        static let decoySQL = devicesSQL
            .replacingOccurrences(of: "UPDATE devices d SET", with: "UPDATE decoy d SET")
            .replacingOccurrences(of: #"\$1(?![0-9])"#, with: "9223372036854775807", options: .regularExpression)
        static let devicesSQL = """
            UPDATE devices d SET
                failure_count = \(base) + \(taken),
                state = CASE WHEN \(base) + \(taken) >= $1 THEN 'locked' ELSE d.state END,
                lockouts = CASE WHEN \(base) + \(taken) >= $1 THEN d.lockouts + 1 ELSE d.lockouts END,
                locked_until = CASE WHEN \(base) + \(taken) >= $1
                    THEN f.now + LEAST($2::BIGINT << LEAST(d.lockouts, 20)::INT, $3::BIGINT)
                    ELSE d.locked_until END,
                last_failure_at = f.now,
                revision = d.revision + \(taken)
            FROM unnest($4::TEXT[], $5::BIGINT[], $6::BIGINT[]) AS f(serial, now, n)
            WHERE d.serial = f.serial
                AND (d.state = 'active' OR (d.state = 'locked' AND d.locked_until IS NOT NULL AND d.locked_until <= f.now))
            RETURNING d.serial, d.state
            """
        typealias Row = (serial: String, state: String)
        let policy: Policy
        let serials: [String]
        let nows: [Int64]
        /// Failures per device (each at least 1).
        let counts: [Int64]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: Self.parameterCount)
            bind(into: &bindings)
            return bindings
        }

        /// Parameters of ``sql`` (`$1` … `$7`).
        static let parameterCount = 7

        /// Appends this statement's parameters (also for statements that embed it).
        func bind(into bindings: inout PostgresBindings) {
            bindings.append(Int64(policy.lockoutThreshold))
            bindings.append(policy.baseLockSeconds)
            bindings.append(policy.maximumLockSeconds)
            bindings.append(serials)
            bindings.append(nows)
            bindings.append(counts)
            bindings.append(policy.lockoutDecaySeconds)
        }

        func decodeRow(_ row: PostgresRow) throws -> (serial: String, state: String) { try row.decode((String, String).self) }
    }

    /// The audit chain's lock for this schema, held to the end of the transaction.
    struct AuditLock: PostgresPreparedStatement {
        static let name = "mfa_audit_lock"
        static let sql = "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':mfa-audit'))) AS locked"
        typealias Row = Int32
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Int32 { try row.decode(Int32.self) }
    }

    /// The chain's head: the last entry's sequence number and hash.
    struct AuditHead: PostgresPreparedStatement {
        static let name = "mfa_audit_head"
        static let sql = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
        typealias Row = (sequence: Int64, hash: [UInt8])
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> (sequence: Int64, hash: [UInt8]) {
            let (sequence, hash) = try row.decode((Int64, ByteBuffer).self)
            return (sequence, PostgresMFAStore.bytes(hash))
        }
    }

    /// The chain's head as the signed checkpoint holds it, with the checkpoint's row locked: the lock
    /// and the read in one round trip. Every append moves the checkpoint in its own transaction, so
    /// under `FOR UPDATE` (read committed) a waiting appender reads the head its predecessor committed.
    /// No row (before the first append) locks nothing: see `PostgresMFAStore.append`.
    struct AuditHeadLocked: PostgresPreparedStatement {
        static let name = "mfa_audit_head_locked"
        static let sql = "SELECT seq, hash FROM audit_checkpoint WHERE id = 1 FOR UPDATE"
        typealias Row = AuditHead.Row
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Row { try AuditHead().decodeRow(row) }
    }

    /// Audit entries, in order, in one statement. Arrays cannot hold NULLs here, so the nullable user
    /// and serial come with flags.
    struct AuditInsert: PostgresPreparedStatement {
        static let name = "mfa_audit_insert"
        static let sql = "INSERT INTO audit (seq, time, actor, action, \"user\", serial, result, detail, prev_hash, hash) \(entriesSQL)"
        /// The rows of `$1`…`$12`, shared with ``AuditAppend``.
        static let entriesSQL = """
            SELECT seq, time, actor, action, CASE WHEN has_user THEN "user" END, CASE WHEN has_serial THEN serial END, result, detail, prev_hash, hash
            FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BOOLEAN[], $7::TEXT[], $8::BOOLEAN[],
                        $9::TEXT[], $10::TEXT[], $11::BYTEA[], $12::BYTEA[])
                AS e(seq, time, actor, action, "user", has_user, serial, has_serial, result, detail, prev_hash, hash)
            """
        typealias Row = Int32
        let entries: ArraySlice<AuditEntry>

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 12)
            bind(into: &bindings)
            return bindings
        }

        /// Appends this statement's parameters (also for statements that embed it).
        func bind(into bindings: inout PostgresBindings) {
            bindings.append(entries.map(\.sequence))
            bindings.append(entries.map(\.draft.time))
            bindings.append(entries.map(\.draft.actor))
            bindings.append(entries.map(\.draft.action))
            bindings.append(entries.map { $0.draft.user ?? "" })
            bindings.append(entries.map { $0.draft.user != nil })
            bindings.append(entries.map { $0.draft.serial ?? "" })
            bindings.append(entries.map { $0.draft.serial != nil })
            bindings.append(entries.map(\.draft.result))
            bindings.append(entries.map(\.draft.detail))
            bindings.append(entries.map { ByteBuffer(bytes: $0.previousHash) })
            bindings.append(entries.map { ByteBuffer(bytes: $0.hash) })
        }

        func decodeRow(_ row: PostgresRow) throws -> Int32 { 0 }
    }

    /// The last entries and the signed checkpoint of the new head, in one statement (one round trip).
    struct AuditAppend: PostgresPreparedStatement {
        static let name = "mfa_audit_append"
        static let sql = """
            WITH appended AS (INSERT INTO audit (seq, time, actor, action, "user", serial, result, detail, prev_hash, hash) \(AuditInsert.entriesSQL))
            INSERT INTO audit_checkpoint (id, seq, hash, mac) VALUES (1, $13, $14, $15)
            ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, mac = EXCLUDED.mac
            """
        typealias Row = Int32
        let entries: ArraySlice<AuditEntry>
        let checkpoint: AuditCheckpoint

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 15)
            bind(into: &bindings)
            return bindings
        }

        /// Appends this statement's parameters (also for statements that embed it).
        func bind(into bindings: inout PostgresBindings) {
            AuditInsert(entries: entries).bind(into: &bindings)
            bindings.append(checkpoint.sequence)
            bindings.append(ByteBuffer(bytes: checkpoint.hash))
            bindings.append(ByteBuffer(bytes: checkpoint.mac))
        }

        func decodeRow(_ row: PostgresRow) throws -> Int32 { 0 }
    }
}

extension PostgresMFAStore {
    /// The entries and the signed checkpoint of the new head, but only if the checkpoint still holds
    /// the head the caller expects (the one this process committed last): one round trip instead of
    /// the locked head read plus ``AuditAppend``. Returns 1 when appended, 0 when the head had moved
    /// (nothing written; the caller appends the locked way). Waits, like any update, for a transaction
    /// holding the checkpoint's row, then compares against what that one committed.
    struct AuditAppendAfter: PostgresPreparedStatement {
        static let name = "mfa_audit_append_after"
        static let sql = """
            WITH moved AS (
                UPDATE audit_checkpoint SET seq = $13, hash = $14, mac = $15 WHERE id = 1 AND seq = $16 AND hash = $17 RETURNING 1
            ), appended AS (
                INSERT INTO audit (seq, time, actor, action, "user", serial, result, detail, prev_hash, hash)
                \(AuditInsert.entriesSQL) WHERE EXISTS (SELECT 1 FROM moved)
            )
            SELECT count(*)::INT4 FROM moved
            """
        typealias Row = Int32
        let entries: ArraySlice<AuditEntry>
        let checkpoint: AuditCheckpoint
        let expected: (sequence: Int64, hash: [UInt8])

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 17)
            bind(into: &bindings)
            return bindings
        }

        /// Appends this statement's parameters (also for statements that embed it).
        func bind(into bindings: inout PostgresBindings) {
            AuditAppend(entries: entries, checkpoint: checkpoint).bind(into: &bindings)
            bindings.append(expected.sequence)
            bindings.append(ByteBuffer(bytes: expected.hash))
        }

        func decodeRow(_ row: PostgresRow) throws -> Int32 { try row.decode(Int32.self) }
    }
}

extension AsyncSequence {
    /// Every element, in order (a prepared statement's decoded rows).
    func all() async throws -> [Element] {
        try await reduce(into: []) { $0.append($1) }
    }
}
