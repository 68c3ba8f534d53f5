import CSQLiteSetup
import Foundation
import GRDB
import MFA
import OTP

/// The embedded default store: one SQLite file through GRDB's `DatabasePool` (WAL mode, readers in
/// parallel with the single writer), `synchronous = FULL` so an accepted code's watermark survives a
/// crash or power loss, a 10 s busy timeout so several processes can share the file. Concurrent writes
/// share transactions and commits (``GroupCommit``), each job in its own savepoint.
public final class SQLiteMFAStore: MFAStore {
    let pool: DatabasePool
    let chain: AuditChain
    let commits: GroupCommit
    /// The writer's view of the devices, for sign-ins decided inside its transactions.
    let cache: WriterCache

    /// SQLite's process-wide settings, applied once before the first connection of the process opens
    /// (``CSQLiteSetup``): GRDB uses each connection from one queue at a time, so SQLite's own
    /// per-call and per-allocation mutexes are pure cost. False when SQLite was already initialized by
    /// other code, which leaves its defaults (correct, only slower).
    static let processSetUp: Bool = mfa_sqlite_process_setup() == 1

    /// Opens (creating if needed) the database at `path`. Call ``migrate()`` before use.
    public init(path: String, chain: AuditChain) throws(MFAError) {
        _ = Self.processSetUp
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            pool = try DatabasePool(path: path, configuration: configuration)
            // Again on the writer: GRDB's WAL set-up (after `prepareDatabase`) sets it to NORMAL, under
            // which a commit is not synced and a power loss can undo an accepted code's watermark.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw MFAError(.storeUnavailable, "cannot open the SQLite database \(path): \(error)")
        }
        let cache = WriterCache()
        self.cache = cache
        commits = GroupCommit(
            pool: pool,
            begin: { db in cache.begin(dataVersion: try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0) },
            end: { db in try Self.writeCheckpoint(cache.takeCheckpointDue(), chain: chain, db) },
            failed: { cache.failed() })
        self.chain = chain
    }

    public func insert(_ device: DeviceRecord, maximumPerOwner: Int, audit: AuditDraft) async throws(MFAError) {
        try await write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM devices WHERE serial = ?", arguments: [device.serial]) != nil {
                throw MFAError(.alreadyExists, "a device with serial \(device.serial) exists")
            }
            if let owner = device.owner {
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM devices WHERE owner = ? AND state != 'deactivated'", arguments: [owner]) ?? 0
                if count >= maximumPerOwner {
                    throw MFAError(.limitExceeded, "user \(owner) already has \(count) devices (limit \(maximumPerOwner))")
                }
            }
            _ = try RowBinder.run(try db.cachedStatement(sql: Self.insertSQL), in: db) { Self.bindInsert(device, &$0) }
            try self.append(db, audit)
        }
    }

    static let insertSQL = """
        INSERT INTO devices (serial, kind, owner, state, algorithm, digits, period, counter, watermark, drift_steps, drift_history,
            failure_count, lockouts, locked_until, created_at, enabled_at, last_used_at, sealed_secret, seed_fingerprint, revision)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
        """

    /// The values of ``insertSQL``, in order.
    static func bindInsert(_ d: DeviceRecord, _ row: inout RowBinder) {
        row.add(d.serial)
        row.add(d.kind.rawValue)
        row.add(d.owner)
        row.add(d.state.rawValue)
        row.add(d.algorithm.rawValue)
        row.add(d.digits)
        row.add(d.period)
        row.add(d.counter)
        row.add(d.watermark)
        row.add(d.driftSteps)
        row.add(history(d.driftHistory))
        row.add(d.failureCount)
        row.add(d.lockouts)
        row.add(d.lockedUntil)
        row.add(d.createdAt)
        row.add(d.enabledAt)
        row.add(d.lastUsedAt)
        row.add(d.sealedSecret)
        row.add(d.seedFingerprint)
    }

    public func insertBatch(_ devices: [DeviceRecord], audit: [AuditDraft]) async throws(MFAError) {
        try await write { db in
            // One prepared statement for every row; a taken serial inserts nothing and ends the
            // transaction (rolled back: all or nothing).
            let statement = try db.cachedStatement(sql: Self.insertSQL + " ON CONFLICT(serial) DO NOTHING")
            for device in devices {
                if try RowBinder.run(statement, in: db, { Self.bindInsert(device, &$0) }) != 1 { throw MFAError(.alreadyExists, "a device with serial \(device.serial) exists; nothing was imported") }
            }
            try self.append(db, audit)
        }
    }

    public func seedIndex() async throws(MFAError) -> [SeedIndexEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT serial, seed_fingerprint FROM devices").map { row in
                SeedIndexEntry(serial: row["serial"], fingerprint: (row["seed_fingerprint"] as Data?).map { [UInt8]($0) })
            }
        }
    }

    public func devices(serials: [String]) async throws(MFAError) -> [DeviceRecord] {
        try await read { db in
            var found: [DeviceRecord] = []
            var start = 0
            while start < serials.count {
                let chunk = Array(serials[start..<min(serials.count, start + 500)])
                start += chunk.count
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                found += try Row.fetchAll(db, sql: "SELECT * FROM devices WHERE serial IN (\(marks))", arguments: StatementArguments(chunk)).map(Self.record)
            }
            return found
        }
    }

    public func device(serial: String) async throws(MFAError) -> DeviceRecord? {
        try await read { db in try db.row(sql: "SELECT * FROM devices WHERE serial = ?", arguments: [serial]).map(Self.record) }
    }

    public func devices(owner: String) async throws(MFAError) -> [DeviceRecord] {
        try await read { db in try Self.devices(owner: owner, db) }
    }

    /// `owner`'s devices, ordered by serial.
    static func devices(owner: String, _ db: Database) throws -> [DeviceRecord] {
        try db.rows(sql: "SELECT * FROM devices WHERE owner = ? ORDER BY serial", arguments: [owner]).map(record)
    }

    public func devices(assignment: Assignment) async throws(MFAError) -> [DeviceRecord] {
        let condition =
            switch assignment {
            case .assigned: "WHERE owner IS NOT NULL"
            case .unassigned: "WHERE owner IS NULL"
            case .any: ""
            }
        return try await read { db in try db.rows(sql: "SELECT * FROM devices \(condition) ORDER BY serial").map(Self.record) }
    }

    public func update(_ device: DeviceRecord, maximumPerOwner: Int?, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write { db in
            if let maximumPerOwner, let owner = device.owner {
                let count = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM devices WHERE owner = ? AND state != 'deactivated' AND serial != ?",
                    arguments: [owner, device.serial]) ?? 0
                if count >= maximumPerOwner {
                    throw MFAError(.limitExceeded, "user \(owner) already has \(count) devices (limit \(maximumPerOwner))")
                }
            }
            try db.run(sql: """
                UPDATE devices SET kind = ?, owner = ?, state = ?, algorithm = ?, digits = ?, period = ?, counter = ?, watermark = ?,
                    drift_steps = ?, drift_history = ?, failure_count = ?, lockouts = ?, locked_until = ?, created_at = ?, enabled_at = ?,
                    last_used_at = ?, sealed_secret = ?, revision = revision + 1
                WHERE serial = ? AND revision = ?
                """, arguments: StatementArguments(Array(Self.values(device).dropFirst()) + [device.serial, device.revision]))
            guard db.changesCount == 1 else { return false }
            try self.append(db, audit)
            return true
        }
    }

    public func delete(serial: String, revision: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write { db in
            try db.run(sql: "DELETE FROM devices WHERE serial = ? AND revision = ?", arguments: [serial, revision])
            guard db.changesCount == 1 else { return false }
            try self.append(db, audit)
            return true
        }
    }

    public func accept(_ a: Acceptance, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write { db in
            guard try Self.accept(a, db) else { return false }
            try self.append(db, audit)
            return true
        }
    }

    public func recordFailure(serials: [String], policy: Policy, now: Int64, audit: AuditDraft) async throws(MFAError) -> [String] {
        try await write { db in
            let locked = try serials.filter { serial in try Self.fail(serial, policy: policy, now: now, db)?.state == .locked }
            try self.append(db, audit)
            return locked
        }
    }

    /// Decides and commits inside one of the writer's group-commit transactions, on the writer's
    /// cached view of the owner's devices: no read of its own, and no other write in between.
    public func signIn(owner: String, _ decide: @escaping @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
        async throws(MFAError) -> SignInOutcome
    {
        try await guarded { try await self.commits.write { db in try self.signIn(db, owner: owner, decide) } }
    }

    private func signIn(_ db: Database, owner: String, _ decide: ([DeviceRecord]) throws(MFAError) -> SignInDecision) throws -> SignInOutcome {
        let devices: [DeviceRecord]
        if let known = cache.devices(owner: owner) {
            devices = known
        } else {
            devices = try Self.devices(owner: owner, db)
            cache.remember(devices, owner: owner)
        }
        switch try decide(devices) {
        case .accept(let a, let audit):
            // The cache is exact, so this cannot lose; the compare-and-set stays as the guarantee.
            guard try Self.accept(a, db) else {
                cache.forget(owner: owner)
                try append(db, audit.replay(of: a.serial))
                return .rejected(locked: [])
            }
            try append(db, audit)
            cache.update(owner: owner, serial: a.serial) { $0.accept(a) }
            return .accepted(serial: a.serial)
        case .fail(let serials, let policy, let now, let audit):
            var locked: [String] = []
            for serial in serials {
                guard let failure = try Self.fail(serial, policy: policy, now: now, db) else { continue }
                cache.update(owner: owner, serial: serial) { failure.apply(to: &$0) }
                if failure.state == .locked { locked.append(serial) }
            }
            try append(db, audit)
            return .rejected(locked: locked)
        case .reject(let audit):
            try append(db, audit)
            return .rejected(locked: [])
        }
    }

    /// The acceptance `UPDATE … WHERE watermark < step` on a usable device; false for a replay.
    static func accept(_ a: Acceptance, _ db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: """
            UPDATE devices SET watermark = ?, counter = ?, drift_steps = ?, drift_history = ?, last_used_at = ?,
                failure_count = 0, lockouts = 0, locked_until = NULL, state = 'active', revision = revision + 1
            WHERE serial = ? AND watermark < ?
                AND (state = 'active' OR (state = 'locked' AND locked_until IS NOT NULL AND locked_until <= ?))
            """)
        return try RowBinder.run(statement, in: db) { row in
            row.add(a.step)
            row.add(a.counter)
            row.add(a.driftSteps)
            row.add(Self.history(a.driftHistory))
            row.add(a.now)
            row.add(a.serial)
            row.add(a.step)
            row.add(a.now)
        } == 1
    }

    /// A device's failure columns after ``fail(_:policy:now:_:)``.
    struct Failure {
        var state: DeviceState
        var failureCount: Int
        var lockouts: Int
        var lockedUntil: Int64?
        var revision: Int64

        func apply(to device: inout DeviceRecord) {
            device.state = state
            device.failureCount = failureCount
            device.lockouts = lockouts
            device.lockedUntil = lockedUntil
            device.revision = revision
        }
    }

    /// Counts one failure on `serial` if it is usable: one atomic conditional update, so concurrent
    /// failures from any number of processes are each counted once and the device locks exactly at
    /// the threshold. Nil when the device is not usable (or gone).
    static func fail(_ serial: String, policy: Policy, now: Int64, _ db: Database) throws -> Failure? {
        // A failure on the decoy's serial: the same statement on the decoy's row, which never locks
        // (so the work, the row write and the statement journal are a wrong code's), and is not
        // reported.
        let decoy = serial.utf8.isEmpty
        // The count so far, forgotten after a quiet period of ?6 seconds (0: never).
        let base = "(CASE WHEN ?6 > 0 AND last_failure_at IS NOT NULL AND ?2 - last_failure_at >= ?6 THEN 0 ELSE failure_count END)"
        let statement = try db.cachedStatement(sql: """
            UPDATE \(decoy ? "decoy" : "devices") SET
                failure_count = \(base) + 1,
                state = CASE WHEN \(base) + 1 >= ?1 THEN 'locked' ELSE state END,
                lockouts = CASE WHEN \(base) + 1 >= ?1 THEN lockouts + 1 ELSE lockouts END,
                locked_until = CASE WHEN \(base) + 1 >= ?1
                    THEN ?2 + min(?3 << min(lockouts, 20), ?4) ELSE locked_until END,
                last_failure_at = ?2,
                revision = revision + 1
            WHERE serial = ?5 AND (state = 'active' OR (state = 'locked' AND locked_until IS NOT NULL AND locked_until <= ?2))
            RETURNING state, failure_count, lockouts, locked_until, revision
            """)
        let failure = try RowBinder.first(statement, in: db) { row in
            row.add(decoy ? Int64.max : Int64(policy.lockoutThreshold))
            row.add(now)
            row.add(policy.baseLockSeconds)
            row.add(policy.maximumLockSeconds)
            row.add(serial)
            row.add(policy.lockoutDecaySeconds)
        } read: { row in
            DeviceState(rawValue: row.string(0)).map {
                Failure(state: $0, failureCount: row.int(1), lockouts: row.int(2), lockedUntil: row.optionalInt64(3), revision: row.int64(4))
            }
        }
        return decoy ? nil : failure.flatMap { $0 }
    }

    public func resealAll(_ transform: @Sendable (DeviceRecord) throws(MFAError) -> [UInt8], newChain: AuditChain, audit: AuditDraft)
        async throws(MFAError) -> Int
    {
        do {
            return try await withoutActuallyEscaping(transform) { transform in
            let reseal = transform
            // Straight to the pool, not through group commit: the transform must not outlive this call.
            return try await pool.write { db in
                let devices = try db.rows(sql: "SELECT * FROM devices").map(Self.record)
                for device in devices {
                    try db.run(sql: "UPDATE devices SET sealed_secret = ?, revision = revision + 1 WHERE serial = ?",
                                   arguments: [Data(try reseal(device)), device.serial])
                }
                try db.execute(sql: "INSERT OR REPLACE INTO vault_key (id, key_id) VALUES (1, ?)", arguments: [Data(newChain.vaultKeyID)])
                try self.append(db, audit, chain: newChain)
                try Self.writeCheckpoint(self.cache.takeCheckpointDue(), chain: newChain, db)
                self.cache.forgetDevices()
                return devices.count
            }
            }
        } catch let error as MFAError {
            cache.failed()
            throw error
        } catch {
            cache.failed()
            throw MFAError(.storeUnavailable, "SQLite: \(error)")
        }
    }

    /// The writer cache's view of `owner`'s devices (nil when not remembered), for coherence tests.
    @_spi(Testing) public func cachedDevices(owner: String) -> [DeviceRecord]? { cache.devices(owner: owner) }

    /// Runs raw SQL: for tests that tamper with the audit log on purpose.

    @_spi(Testing) public func executeRaw(_ sql: String) async throws(MFAError) {
        try await write { db in
            try db.execute(sql: sql)
            self.cache.forgetEverything()
        }
    }

    /// The writer connection's `PRAGMA synchronous` (2: FULL, every commit synced).
    @_spi(Testing) public func writerSynchronous() async throws(MFAError) -> Int64? {
        try await guarded { try await self.pool.writeWithoutTransaction { db in try Int64.fetchOne(db, sql: "PRAGMA synchronous") } }
    }

    /// The first column of the first row of `sql`, as an integer (tests read rows no API shows).
    @_spi(Testing) public func integerRaw(_ sql: String) async throws(MFAError) -> Int64? {
        try await read { db in try Int64.fetchOne(db, sql: sql) }
    }

    // MARK: Internals

    static func arguments(_ d: DeviceRecord) -> StatementArguments { StatementArguments(values(d)) }

    static func values(_ d: DeviceRecord) -> [(any DatabaseValueConvertible)?] {
        [d.serial, d.kind.rawValue, d.owner, d.state.rawValue, d.algorithm.rawValue, d.digits, d.period, d.counter, d.watermark,
         d.driftSteps, history(d.driftHistory), d.failureCount, d.lockouts, d.lockedUntil, d.createdAt, d.enabledAt, d.lastUsedAt,
         Data(d.sealedSecret)]
    }

    static func history(_ values: [Int64]) -> String { values.map(String.init).joined(separator: ",") }

    static func record(_ row: Row) throws -> DeviceRecord {
        guard let kind = DeviceKind(rawValue: row["kind"]), let state = DeviceState(rawValue: row["state"]),
            let algorithm = HashAlgorithm(rawValue: row["algorithm"])
        else { throw MFAError(.storeUnavailable, "device \(row["serial"] as String) has an unreadable row") }
        var d = DeviceRecord(
            serial: row["serial"], kind: kind, owner: row["owner"], state: state, algorithm: algorithm, digits: row["digits"],
            period: row["period"], counter: row["counter"], sealedSecret: [UInt8](row["sealed_secret"] as Data), createdAt: row["created_at"])
        d.watermark = row["watermark"]
        d.driftSteps = row["drift_steps"]
        d.driftHistory = (row["drift_history"] as String).split(separator: ",").compactMap { Int64($0) }
        d.failureCount = row["failure_count"]
        d.lockouts = row["lockouts"]
        d.lockedUntil = row["locked_until"]
        d.enabledAt = row["enabled_at"]
        d.lastUsedAt = row["last_used_at"]
        d.revision = row["revision"]
        d.seedFingerprint = (row["seed_fingerprint"] as Data?).map { [UInt8]($0) }
        return d
    }

    /// A group-commit job. Unless it `keepsDevices`, the writer's cache forgets every device after it.
    func write<T: Sendable>(keepsDevices: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws(MFAError) -> T {
        try await guarded {
            try await self.commits.write { db in
                let value = try body(db)
                if !keepsDevices { self.cache.forgetDevices() }
                return value
            }
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(MFAError) -> T {
        try await guarded { try await self.pool.read(body) }
    }

    func guarded<T>(_ body: () async throws -> T) async throws(MFAError) -> T {
        do { return try await body() } catch let error as MFAError { throw error } catch {
            throw MFAError(.storeUnavailable, "SQLite: \(error)")
        }
    }
}
