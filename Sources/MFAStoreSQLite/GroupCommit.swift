import Dispatch
import GRDB
import MFA

/// Group commit for SQLite's single writer: write jobs that arrive while a commit is in progress
/// are run together in the next transaction and share one commit (one fsync under
/// `synchronous = FULL`).
///
/// Each job keeps its own all-or-nothing semantics: a job that throws gets its error and leaves
/// nothing behind, the others commit (`commit` tells how, without a savepoint per job in the common
/// case). No job is answered before the transaction holding it has
/// committed, so a verify is never reported accepted before its watermark is durable. Jobs run in
/// arrival order, one at a time, so compare-and-set updates and the audit chain see each other's
/// effects exactly as with one transaction per job.
final class GroupCommit: Sendable {
    private struct Job: Sendable {
        let body: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    /// Runs first in every transaction, before its jobs (the writer's cache checks for foreign commits).
    typealias Begin = @Sendable (Database) throws -> Void
    /// Runs last in every transaction, after its jobs and before the commit (the audit checkpoint).
    typealias End = @Sendable (Database) throws -> Void
    /// Runs when a job or a whole transaction fails (the writer's cache forgets what it may have wrong).
    typealias Failed = @Sendable () -> Void

    private let queue: BatchQueue<Job>

    init(pool: DatabasePool, maximumBatch: Int = 512, begin: @escaping Begin = { _ in }, end: @escaping End = { _ in }, failed: @escaping Failed = {}) {
        queue = BatchQueue(maximumBatch: maximumBatch) { jobs, done in Self.commit(jobs, pool: pool, begin: begin, end: end, failed: failed, done: done) }
    }

    /// Runs `body` in a write transaction shared with other concurrent jobs; returns after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = Job(body: { db in try body(db) }, continuation: continuation)
            queue.submit(job)
        }
        return value as! T
    }

    /// One batch in one transaction on the writer's queue; `done` starts the next batch on the same
    /// queue right after the commit, with no thread hop in between. Another thread wakes the
    /// committed batch's callers meanwhile: a wake-up per caller would cost the single writer more than
    /// one hand-over per batch.
    ///
    /// The jobs first run one after the other with no savepoints (two statements fewer per job); if
    /// one throws, that whole transaction rolls back and the batch runs again with a savepoint per job,
    /// where a throwing job takes back only its own changes and gets its error. Job bodies only touch
    /// the database and the writer's cache (which `failed` clears), so running one again after a
    /// rollback decides it afresh, with the same effects as running it once.
    private static func commit(_ jobs: [Job], savepoints: Bool = false, pool: DatabasePool, begin: @escaping Begin, end: @escaping End,
                               failed: @escaping Failed, done: @escaping @Sendable () -> Void) {
        let bodies = jobs.map(\.body)
        pool.asyncWrite({ db -> [Result<any Sendable, any Error>] in
            try begin(db)
            let results = try bodies.map { body -> Result<any Sendable, any Error> in
                // Without savepoints a job's error leaves the closure and rolls the transaction back.
                guard savepoints else { return .success(try body(db)) }
                let result = Result { try savepoint(db) { try body(db) } }
                if case .failure = result { failed() }
                return result
            }
            try end(db)
            return results
        }, completion: { _, outcome in
            let results: [Result<any Sendable, any Error>]
            switch outcome {
            case .success(let committed): results = committed
            case .failure where !savepoints:
                failed()
                commit(jobs, savepoints: true, pool: pool, begin: begin, end: end, failed: failed, done: done)
                return
            case .failure(let error):
                // The transaction itself failed (could not begin or commit): nothing in it is durable.
                failed()
                results = jobs.map { _ in .failure(error) }
            }
            done()
            DispatchQueue.global().async { for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) } }
        })
    }

    private static func savepoint(_ db: Database, _ body: () throws -> any Sendable) throws -> any Sendable {
        try db.cachedStatement(sql: "SAVEPOINT job").execute()
        do {
            let value = try body()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            return value
        } catch {
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT job").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            throw error
        }
    }
}
