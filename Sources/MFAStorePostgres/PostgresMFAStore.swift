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

    /// How the store uses its server; the defaults are the service's.
    public struct Configuration: Sendable {
        /// The store's own schema (created by ``migrate()``); a `schema` query parameter in the URL
        /// (`…/db?schema=tenant1`) does the same. Nil: the connection's default.
        public var schema: String?
        /// Bounds this process's pool (PostgreSQL's own limit is shared by all processes).
        public var maximumConnections = 10
        /// Bounds ``migrate()``, the first contact at start-up.
        public var startupTimeoutSeconds = 8
        /// How long a session may sit idle inside a transaction or wait for a lock before the server
        /// ends it. Both timeouts count time this process spends waiting for a thread of Swift's
        /// cooperative pool, so a process whose pool is busy (the whole test suite at once on two
        /// cores) needs more than the defaults.
        public var stallTimeoutSeconds = 10
        public init(schema: String? = nil, maximumConnections: Int = 10, startupTimeoutSeconds: Int = 8, stallTimeoutSeconds: Int = 10) {
            self.schema = schema
            self.maximumConnections = maximumConnections
            self.startupTimeoutSeconds = startupTimeoutSeconds
            self.stallTimeoutSeconds = stallTimeoutSeconds
        }
    }

    /// Connects to `url` (`postgres://user:password@host:port/database`). Call ``migrate()`` first.
    public init(url: String, chain: AuditChain, configuration store: Configuration = Configuration()) throws(MFAError) {
        let (maximumConnections, startupTimeoutSeconds, stallTimeoutSeconds) = (store.maximumConnections, store.startupTimeoutSeconds, store.stallTimeoutSeconds)
        self.startupTimeoutSeconds = max(1, startupTimeoutSeconds)
        let parsed = try PostgresURL(url)
        let schema = store.schema ?? parsed.schema
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

    public func appendAudit(_ draft: AuditDraft) async throws(MFAError) {
        _ = try await guarded { try await self.commits.run(.audit(draft)) }
    }

    // MARK: Internals

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    func transaction<T: Sendable>(_ body: @escaping (PostgresConnection) async throws -> T) async throws(MFAError) -> T {
        try await guarded { try await self.client.withTransaction(logger: self.logger) { c in try await body(c) } }
    }

    func guarded<T>(_ body: () async throws -> T) async throws(MFAError) -> T {
        do { return try await body() } catch let error as PostgresTransactionError {
            throw StoreSupport.storeError("PostgreSQL", error.closureError ?? error.commitError ?? error.beginError ?? error, reflecting: true)
        } catch {
            throw StoreSupport.storeError("PostgreSQL", error, reflecting: true)
        }
    }
}
