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

    /// How the store opens its database; the defaults are the service's.
    public struct Configuration: Sendable {
        /// How long a write waits for another process's lock on the file before it fails.
        public var busyTimeoutSeconds: Double = 10
        /// SQLite's page cache per connection.
        public var cacheKiB: Int = 65_536
        public init() {}
    }

    /// Opens (creating if needed) the database at `path`. Call ``migrate()`` before use.
    public init(path: String, chain: AuditChain, configuration store: Configuration = Configuration()) throws(MFAError) {
        _ = Self.processSetUp
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(store.busyTimeoutSeconds)
        let cacheKiB = max(1, store.cacheKiB)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
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
        do { return try await body() } catch { throw StoreSupport.storeError("SQLite", error) }
    }
}
