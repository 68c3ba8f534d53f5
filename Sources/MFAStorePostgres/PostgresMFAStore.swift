import EventLoopExecutor
import Foundation
import Logging
import MFA
import NIOCore
import NIOPosix
import OTP
import PostgresNIO

/// The store for many server processes sharing one PostgreSQL database (postgres-nio connection pool).
///
/// Conditional updates carry the concurrency rules: under READ COMMITTED a concurrent
/// `UPDATE … WHERE watermark < $step` waits for the first writer and re-checks its condition against the
/// committed row, so a code is accepted exactly once across processes. Audit appends serialize on a
/// transaction-scoped advisory lock; per-owner device limits on an advisory lock of the owner. The
/// sign-in path's writes share transactions and commits (``PostgresGroupCommit``).
public final class PostgresMFAStore: MFAStore {
    let client: PostgresClient
    let chain: AuditChain
    let logger = Logger(label: "mfa.store.postgres")
    private let runner: Task<Void, Never>
    /// The sign-in path's writes, batched into shared transactions.
    let commits: PostgresGroupCommit

    static let auditLock: Int64 = 0x4D46_4131  // "MFA1"

    /// The event loop of every PostgreSQL connection in this process: its own thread, so a round trip
    /// to the database is not queued behind the HTTP work of the server's event loops.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let schema: String?
    let endpoint: String
    /// The URL as read, for the first contact's own connection (``migrate()``).
    let url: PostgresURL
    /// How long ``migrate()`` (the first contact at start-up) waits for the server: 8 s unless the
    /// initializer says otherwise.
    public let startupTimeoutSeconds: Int

    /// Connects to `url` (`postgres://user:password@host:port/database`), optionally in its own
    /// `schema` (created by ``migrate()``). Call ``migrate()`` first.
    /// A `schema` query parameter in the URL (`…/db?schema=tenant1`) does the same as `schema`.
    /// `maximumConnections` bounds this process's pool (PostgreSQL's own limit is shared by all processes).
    /// `startupTimeoutSeconds` bounds ``migrate()``, and `stallTimeoutSeconds` how long a session may
    /// sit idle inside a transaction or wait for a lock before the server ends it. Both count time
    /// this process spends waiting for a thread of Swift's cooperative pool, so a process whose pool
    /// is busy (the whole test suite at once on two cores) needs more than the defaults.
    public init(
        url: String, chain: AuditChain, schema: String? = nil, maximumConnections: Int = 10, startupTimeoutSeconds: Int = 8,
        stallTimeoutSeconds: Int = 10
    ) throws(MFAError) {
        self.startupTimeoutSeconds = max(1, startupTimeoutSeconds)
        let parsed = try PostgresURL(url)
        let schema = schema ?? parsed.schema
        var configuration = try parsed.clientConfiguration()
        self.url = parsed
        configuration.options.maximumConnections = max(1, maximumConnections)
        configuration.options.connectTimeout = .seconds(5)
        endpoint = parsed.endpoint
        if let schema {
            guard schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw MFAError(.invalidInput, "a schema name may hold only letters, digits and _")
            }
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        // A session that stalls inside a transaction is ended by the server after `stallTimeoutSeconds`
        // (releasing its locks), and nobody waits longer for a lock: stalls stay bounded.
        let stallMilliseconds = String(max(1, stallTimeoutSeconds) * 1000)
        configuration.options.additionalStartupParameters += [
            ("idle_in_transaction_session_timeout", stallMilliseconds), ("lock_timeout", stallMilliseconds),
        ]
        self.schema = schema
        client = PostgresClient(configuration: configuration, eventLoopGroup: Self.eventLoops)
        self.chain = chain
        commits = PostgresGroupCommit(client: client, chain: chain, logger: logger, executor: EventLoopTaskExecutor(Self.eventLoops.next()))
        let client = self.client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Closes the pool.
    public func shutdown() { runner.cancel() }

    public func migrate() async throws(MFAError) {
        // The pool retries unreachable servers forever; at start-up an admin wants an answer.
        let seconds = startupTimeoutSeconds
        let endpoint = self.endpoint
        let outcome: Result<Void, MFAError> = await withTaskGroup(of: Result<Void, MFAError>?.self) { group in
            group.addTask {
                do throws(MFAError) {
                    try await self.firstContact(until: .now + .seconds(seconds))
                    try await self.createSchema()
                    return .success(())
                } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return Task.isCancelled ? nil : .failure(MFAError(.storeUnavailable, "PostgreSQL at \(endpoint) did not answer within \(seconds) s (is it running? are the URL's credentials right?)"))
            }
            for await result in group {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            return .failure(MFAError(.storeUnavailable, "PostgreSQL migration was cancelled"))
        }
        try outcome.get()
    }

    public func insert(_ d: DeviceRecord, maximumPerOwner: Int, audit: AuditDraft) async throws(MFAError) {
        try await transaction { c in
            if let owner = d.owner { try await self.checkLimit(c, owner: owner, excluding: d.serial, maximum: maximumPerOwner) }
            // The insert itself decides: of two concurrent registrations of one serial, one gets no row back.
            let inserted = try await c.query("""
                INSERT INTO devices (serial, kind, owner, state, algorithm, digits, period, counter, watermark, drift_steps, drift_history,
                    failure_count, lockouts, locked_until, created_at, enabled_at, last_used_at, sealed_secret, seed_fingerprint, revision)
                VALUES (\(d.serial), \(d.kind.rawValue), \(d.owner), \(d.state.rawValue), \(d.algorithm.rawValue), \(Int64(d.digits)),
                    \(d.period), \(d.counter), \(d.watermark), \(d.driftSteps), \(Self.history(d.driftHistory)), \(Int64(d.failureCount)),
                    \(Int64(d.lockouts)), \(d.lockedUntil), \(d.createdAt), \(d.enabledAt), \(d.lastUsedAt), \(ByteBuffer(bytes: d.sealedSecret)),
                    \(d.seedFingerprint.map { ByteBuffer(bytes: $0) }), 0)
                ON CONFLICT (serial) DO NOTHING
                RETURNING 1
                """, logger: self.logger).collect().count
            guard inserted == 1 else { throw MFAError(.alreadyExists, "a device with serial \(d.serial) exists") }
            try await self.append(c, audit)
        }
    }

    static let deviceColumns = """
        serial, kind, owner, state, algorithm, digits, period, counter, watermark, drift_steps, drift_history,
        failure_count, lockouts, locked_until, created_at, enabled_at, last_used_at, sealed_secret, seed_fingerprint, revision
        """

    /// Binds one device's columns (in ``deviceColumns`` order).
    static func bind(_ d: DeviceRecord, into binds: inout PostgresBindings) throws {
        try binds.append(d.serial)
        try binds.append(d.kind.rawValue)
        try binds.append(d.owner)
        try binds.append(d.state.rawValue)
        try binds.append(d.algorithm.rawValue)
        try binds.append(Int64(d.digits))
        try binds.append(d.period)
        try binds.append(d.counter)
        try binds.append(d.watermark)
        try binds.append(d.driftSteps)
        try binds.append(history(d.driftHistory))
        try binds.append(Int64(d.failureCount))
        try binds.append(Int64(d.lockouts))
        try binds.append(d.lockedUntil)
        try binds.append(d.createdAt)
        try binds.append(d.enabledAt)
        try binds.append(d.lastUsedAt)
        try binds.append(ByteBuffer(bytes: d.sealedSecret))
        try binds.append(d.seedFingerprint.map { ByteBuffer(bytes: $0) })
        try binds.append(d.revision)
    }

    public func insertBatch(_ devices: [DeviceRecord], audit: [AuditDraft]) async throws(MFAError) {
        try await transaction { c in
            // Multi-row inserts of up to 1 000 devices (20 000 parameters, under PostgreSQL's 65 535).
            var start = 0
            while start < devices.count {
                let chunk = devices[start..<min(devices.count, start + 1_000)]
                start += chunk.count
                var binds = PostgresBindings(capacity: chunk.count * 20)
                var rows: [String] = []
                rows.reserveCapacity(chunk.count)
                for (n, device) in chunk.enumerated() {
                    try Self.bind(device, into: &binds)
                    rows.append("(" + (1...20).map { "$\(n * 20 + $0)" }.joined(separator: ",") + ")")
                }
                let sql = "INSERT INTO devices (\(Self.deviceColumns)) VALUES \(rows.joined(separator: ",")) ON CONFLICT (serial) DO NOTHING RETURNING serial"
                let inserted = Set(try await c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger).collect()
                    .map { ByteKey(try $0.makeRandomAccess()["serial"].decode(String.self)) })
                if inserted.count != chunk.count, let taken = chunk.first(where: { !inserted.contains(ByteKey($0.serial)) }) {
                    throw MFAError(.alreadyExists, "a device with serial \(taken.serial) exists; nothing was imported")
                }
            }
            try await Self.append(c, audit, chain: self.chain, logger: self.logger)
        }
    }

    public func seedIndex() async throws(MFAError) -> [SeedIndexEntry] {
        try await guarded {
            try await self.client.query("SELECT serial, seed_fingerprint FROM devices", logger: self.logger).collect().map { row in
                let r = row.makeRandomAccess()
                return SeedIndexEntry(serial: try r["serial"].decode(String.self), fingerprint: try r["seed_fingerprint"].decode(ByteBuffer?.self).map(Self.bytes))
            }
        }
    }

    public func devices(serials: [String]) async throws(MFAError) -> [DeviceRecord] {
        guard !serials.isEmpty else { return [] }
        return try await rows("SELECT * FROM devices WHERE serial = ANY(\(serials))")
    }

    public func device(serial: String) async throws(MFAError) -> DeviceRecord? {
        try await rows("SELECT * FROM devices WHERE serial = \(serial)").first
    }

    public func devices(owner: String) async throws(MFAError) -> [DeviceRecord] {
        try await guarded { try await self.client.execute(DevicesOfOwners(owners: [owner]), logger: self.logger).all() }
    }

    /// Decided in the group commit's batch: one read for all the batch's sign-ins, then their
    /// decisions committed together (compare-and-set on every acceptance, as other processes write too).
    public func signIn(owner: String, _ decide: @escaping @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
        async throws(MFAError) -> SignInOutcome
    {
        guard case .signedIn(let outcome, let lostRace) = try await guarded({ try await self.commits.run(.signIn(owner: owner, decide: decide)) }) else {
            throw MFAError(.storeUnavailable, "PostgreSQL: a sign-in got an answer of another kind")
        }
        if let lostRace { try await appendAudit(lostRace) }
        return outcome
    }

    public func devices(assignment: Assignment) async throws(MFAError) -> [DeviceRecord] {
        switch assignment {
        case .assigned: try await rows("SELECT * FROM devices WHERE owner IS NOT NULL ORDER BY serial")
        case .unassigned: try await rows("SELECT * FROM devices WHERE owner IS NULL ORDER BY serial")
        case .any: try await rows("SELECT * FROM devices ORDER BY serial")
        }
    }

    public func update(_ d: DeviceRecord, maximumPerOwner: Int?, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            if let maximumPerOwner, let owner = d.owner {
                try await self.checkLimit(c, owner: owner, excluding: d.serial, maximum: maximumPerOwner)
            }
            let changed = try await c.query("""
                UPDATE devices SET kind = \(d.kind.rawValue), owner = \(d.owner), state = \(d.state.rawValue), algorithm = \(d.algorithm.rawValue),
                    digits = \(Int64(d.digits)), period = \(d.period), counter = \(d.counter), watermark = \(d.watermark),
                    drift_steps = \(d.driftSteps), drift_history = \(Self.history(d.driftHistory)), failure_count = \(Int64(d.failureCount)),
                    lockouts = \(Int64(d.lockouts)), locked_until = \(d.lockedUntil), created_at = \(d.createdAt), enabled_at = \(d.enabledAt),
                    last_used_at = \(d.lastUsedAt), sealed_secret = \(ByteBuffer(bytes: d.sealedSecret)), revision = revision + 1
                WHERE serial = \(d.serial) AND revision = \(d.revision)
                RETURNING 1
                """, logger: self.logger).collect().count
            guard changed == 1 else { return false }
            try await self.append(c, audit)
            return true
        }
    }

    public func delete(serial: String, revision: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            let deleted = try await c.query("DELETE FROM devices WHERE serial = \(serial) AND revision = \(revision) RETURNING 1", logger: self.logger)
                .collect().count
            guard deleted == 1 else { return false }
            try await self.append(c, audit)
            return true
        }
    }

    public func accept(_ a: Acceptance, audit: AuditDraft) async throws(MFAError) -> Bool {
        guard case .accepted(let changed) = try await guarded({ try await self.commits.run(.accept(a, audit)) }) else { return false }
        return changed
    }

    public func recordFailure(serials: [String], policy: Policy, now: Int64, audit: AuditDraft) async throws(MFAError) -> [String] {
        guard case .failed(let locked) = try await guarded({ try await self.commits.run(.failure(serials: serials, policy: policy, now: now, audit)) }) else {
            return []
        }
        return locked
    }

    public func appendAudit(_ draft: AuditDraft) async throws(MFAError) {
        _ = try await guarded { try await self.commits.run(.audit(draft)) }
    }

    public func resealAll(_ transform: @Sendable (DeviceRecord) throws(MFAError) -> [UInt8], newChain: AuditChain, audit: AuditDraft)
        async throws(MFAError) -> Int
    {
        do {
            return try await withoutActuallyEscaping(transform) { transform in
                let reseal = transform
                return try await transaction { c in
                    let devices = try await c.query("SELECT * FROM devices FOR UPDATE", logger: self.logger).collect().map(Self.record)
                    for device in devices {
                        _ = try await c.query(
                            "UPDATE devices SET sealed_secret = \(ByteBuffer(bytes: try reseal(device))), revision = revision + 1 WHERE serial = \(device.serial)",
                            logger: self.logger).collect()
                    }
                    _ = try await c.query("""
                        INSERT INTO vault_key (id, key_id) VALUES (1, \(ByteBuffer(bytes: newChain.vaultKeyID)))
                        ON CONFLICT (id) DO UPDATE SET key_id = EXCLUDED.key_id
                        """, logger: self.logger).collect()
                    try await self.append(c, audit, chain: newChain)
                    return devices.count
                }
            }
        } catch let error as MFAError { throw error } catch { throw MFAError(.storeUnavailable, "PostgreSQL: \(error)") }
    }

    // MARK: Internals

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

    func checkLimit(_ c: PostgresConnection, owner: String, excluding serial: String, maximum: Int) async throws {
        _ = try await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || \(owner)))", logger: logger).collect()
        let count = try await c.query(
            "SELECT COUNT(*) AS n FROM devices WHERE owner = \(owner) AND state != 'deactivated' AND serial != \(serial)", logger: logger
        ).collect().first.map { try $0.makeRandomAccess()["n"].decode(Int64.self) } ?? 0
        if count >= Int64(maximum) {
            throw MFAError(.limitExceeded, "user \(owner) already has \(count) devices (limit \(maximum))")
        }
    }

    func rows(_ query: PostgresQuery) async throws(MFAError) -> [DeviceRecord] {
        try await guarded { try await self.client.query(query, logger: self.logger).collect().map(Self.record) }
    }

    static func record(_ row: PostgresRow) throws -> DeviceRecord {
        let r = row.makeRandomAccess()
        let serial = try r["serial"].decode(String.self)
        guard let kind = DeviceKind(rawValue: try r["kind"].decode(String.self)), let state = DeviceState(rawValue: try r["state"].decode(String.self)),
            let algorithm = HashAlgorithm(rawValue: try r["algorithm"].decode(String.self))
        else { throw MFAError(.storeUnavailable, "device \(serial) has an unreadable row") }
        var d = DeviceRecord(
            serial: serial, kind: kind, owner: try r["owner"].decode(String?.self), state: state, algorithm: algorithm,
            digits: Int(try r["digits"].decode(Int64.self)), period: try r["period"].decode(Int64.self), counter: try r["counter"].decode(Int64.self),
            sealedSecret: bytes(try r["sealed_secret"].decode(ByteBuffer.self)), createdAt: try r["created_at"].decode(Int64.self))
        d.watermark = try r["watermark"].decode(Int64.self)
        d.driftSteps = try r["drift_steps"].decode(Int64.self)
        d.driftHistory = try r["drift_history"].decode(String.self).split(separator: ",").compactMap { Int64($0) }
        d.failureCount = Int(try r["failure_count"].decode(Int64.self))
        d.lockouts = Int(try r["lockouts"].decode(Int64.self))
        d.lockedUntil = try r["locked_until"].decode(Int64?.self)
        d.enabledAt = try r["enabled_at"].decode(Int64?.self)
        d.lastUsedAt = try r["last_used_at"].decode(Int64?.self)
        d.revision = try r["revision"].decode(Int64.self)
        d.seedFingerprint = try r["seed_fingerprint"].decode(ByteBuffer?.self).map(bytes)
        return d
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }
    static func history(_ values: [Int64]) -> String { values.map(String.init).joined(separator: ",") }

    func transaction<T: Sendable>(_ body: @escaping (PostgresConnection) async throws -> T) async throws(MFAError) -> T {
        try await guarded { try await self.client.withTransaction(logger: self.logger) { c in try await body(c) } }
    }

    func guarded<T>(_ body: () async throws -> T) async throws(MFAError) -> T {
        do { return try await body() } catch let error as MFAError { throw error } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? MFAError { throw inner }
            throw MFAError(.storeUnavailable, "PostgreSQL: \(String(reflecting: error.closureError ?? error.commitError ?? error.beginError ?? error))")
        } catch {
            throw MFAError(.storeUnavailable, "PostgreSQL: \(String(reflecting: error))")
        }
    }
}
