import Logging
import MFA
import NIOCore
import PostgresNIO
import Synchronization

/// Group commit for the sign-in path's writes (accept, failure count, audit append): the operations
/// that arrive while a batch is committing form the next batch, which runs in one transaction on one
/// connection and shares one commit.
///
/// Per batch: one conditional `UPDATE` per operation, in arrival order (so two accepts of the same
/// code see each other exactly as in separate transactions), then the audit advisory lock, the chain
/// head, every audit entry in one multi-row `INSERT`, and the signed checkpoint once. Rows are locked
/// before the audit lock, in the same order as every other write of the store, so batches and other
/// transactions never deadlock. No operation is answered before its transaction has committed. If a
/// batch fails as a whole, each of its operations is retried alone, so one cannot fail the others.
final class PostgresGroupCommit: Sendable {
    enum Operation: Sendable {
        case accept(Acceptance, AuditDraft)
        case failure(serials: [String], policy: Policy, now: Int64, AuditDraft)
        case audit(AuditDraft)
    }

    enum Outcome: Sendable {
        /// Whether the compare-and-set took (the code was not used before).
        case accepted(Bool)
        /// The devices this failure locked.
        case failed(locked: [String])
        case appended
    }

    private struct Job: Sendable {
        let operation: Operation
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var queue: [Job] = []
        var draining = false
    }

    private let client: PostgresClient
    private let chain: AuditChain
    private let logger: Logger
    private let state = Mutex(State())
    /// Upper bound of operations per transaction (10 parameters per audit row, far below 65 535).
    let maximumBatch = 256

    init(client: PostgresClient, chain: AuditChain, logger: Logger) {
        self.client = client
        self.chain = chain
        self.logger = logger
    }

    /// Runs `operation` in the next batch; returns after that batch has committed.
    func run(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { s -> Bool in
                s.queue.append(Job(operation: operation, continuation: continuation))
                guard !s.draining else { return false }
                s.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
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
                let outcomes = try await commit(jobs.map(\.operation))
                for (job, outcome) in zip(jobs, outcomes) { job.continuation.resume(returning: outcome) }
            } catch where jobs.count > 1 {
                for job in jobs {
                    do { job.continuation.resume(returning: try await commit([job.operation])[0]) } catch { job.continuation.resume(throwing: error) }
                }
            } catch {
                jobs[0].continuation.resume(throwing: error)
            }
        }
    }

    /// One transaction for `operations`; their outcomes in order.
    private func commit(_ operations: [Operation]) async throws -> [Outcome] {
        try await client.withTransaction(logger: logger) { c in
            var outcomes: [Outcome] = []
            var drafts: [AuditDraft] = []
            for operation in operations {
                switch operation {
                case .accept(let a, let draft):
                    let changed = try await c.query("""
                        UPDATE devices SET watermark = \(a.step), counter = \(a.counter), drift_steps = \(a.driftSteps),
                            drift_history = \(PostgresMFAStore.history(a.driftHistory)), last_used_at = \(a.now), failure_count = 0, lockouts = 0,
                            locked_until = NULL, state = 'active', revision = revision + 1
                        WHERE serial = \(a.serial) AND watermark < \(a.step)
                            AND (state = 'active' OR (state = 'locked' AND locked_until IS NOT NULL AND locked_until <= \(a.now)))
                        RETURNING 1
                        """, logger: self.logger).collect().count == 1
                    if changed { drafts.append(draft) }
                    outcomes.append(.accepted(changed))
                case .failure(let serials, let policy, let now, let draft):
                    let threshold = Int64(policy.lockoutThreshold)
                    let rows = try await c.query("""
                        UPDATE devices SET
                            failure_count = failure_count + 1,
                            state = CASE WHEN failure_count + 1 >= \(threshold) THEN 'locked' ELSE state END,
                            lockouts = CASE WHEN failure_count + 1 >= \(threshold) THEN lockouts + 1 ELSE lockouts END,
                            locked_until = CASE WHEN failure_count + 1 >= \(threshold)
                                THEN \(now) + LEAST(\(policy.baseLockSeconds)::BIGINT << LEAST(lockouts, 20)::INT, \(policy.maximumLockSeconds))
                                ELSE locked_until END,
                            revision = revision + 1
                        WHERE serial = ANY(\(serials))
                            AND (state = 'active' OR (state = 'locked' AND locked_until IS NOT NULL AND locked_until <= \(now)))
                        RETURNING serial, state
                        """, logger: self.logger).collect()
                    var locked: [String] = []
                    for row in rows {
                        let r = row.makeRandomAccess()
                        if try r["state"].decode(String.self) == "locked" { locked.append(try r["serial"].decode(String.self)) }
                    }
                    drafts.append(draft)
                    // In the order the caller gave, like one statement per device.
                    outcomes.append(.failed(locked: serials.filter(locked.contains)))
                case .audit(let draft):
                    drafts.append(draft)
                    outcomes.append(.appended)
                }
            }
            if !drafts.isEmpty { try await PostgresMFAStore.append(c, drafts, chain: self.chain, logger: self.logger) }
            return outcomes
        }
    }
}
