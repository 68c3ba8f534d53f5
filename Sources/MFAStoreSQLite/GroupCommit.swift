import GRDB
import Synchronization

/// Group commit for SQLite's single writer: write jobs that arrive while a commit is in progress
/// are run together in the next transaction, each inside its own savepoint, and share one commit
/// (one fsync under `synchronous = FULL`).
///
/// Each job keeps its own all-or-nothing semantics: a job that throws rolls back to its savepoint
/// and gets its error, the others commit. No job is answered before the transaction holding it has
/// committed, so a verify is never reported accepted before its watermark is durable. Jobs run in
/// arrival order, one at a time, so compare-and-set updates and the audit chain see each other's
/// effects exactly as with one transaction per job.
final class GroupCommit: Sendable {
    private struct Job: Sendable {
        let body: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var queue: [Job] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// Upper bound of jobs per transaction (bounds the latency of the first job in a batch).
    let maximumBatch: Int

    init(pool: DatabasePool, maximumBatch: Int = 512) {
        self.pool = pool
        self.maximumBatch = maximumBatch
    }

    /// Runs `body` in a write transaction shared with other concurrent jobs; returns after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = Job(body: { db in try body(db) }, continuation: continuation)
            let startDrainer = state.withLock { s -> Bool in
                s.queue.append(job)
                guard !s.draining else { return false }
                s.draining = true
                return true
            }
            if startDrainer { Task { await self.drain() } }
        }
        return value as! T
    }

    private func drain() async {
        while true {
            let jobs = state.withLock { s -> [Job] in
                guard !s.queue.isEmpty else {
                    s.draining = false
                    return []
                }
                let batch = Array(s.queue.prefix(maximumBatch))
                s.queue.removeFirst(batch.count)
                return batch
            }
            if jobs.isEmpty { return }
            do {
                let bodies = jobs.map(\.body)
                let results = try await pool.write { db -> [Result<any Sendable, any Error>] in
                    bodies.map { body in
                        Result {
                            var value: (any Sendable)?
                            try db.inSavepoint {
                                value = try body(db)
                                return .commit
                            }
                            return value!
                        }
                    }
                }
                for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) }
            } catch {
                // The transaction itself failed (could not begin or commit): nothing in it is durable.
                for job in jobs { job.continuation.resume(throwing: error) }
            }
        }
    }
}
