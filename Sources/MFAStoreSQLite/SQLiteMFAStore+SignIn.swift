import GRDB
import MFA

// MARK: Sign-in: acceptances, failures and decisions inside the writer's transactions

extension SQLiteMFAStore {
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
            row.add(StoreSupport.driftHistoryText(a.driftHistory))
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
}
