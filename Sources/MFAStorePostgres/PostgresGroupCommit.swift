import Logging
import MFA
import NIOCore
import PostgresNIO

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

    /// Up to 256 operations per transaction (10 parameters per audit row, far below 65 535).
    static let maximumBatch = 256
    private let queue: BatchQueue<Job>

    init(client: PostgresClient, chain: AuditChain, logger: Logger) {
        let committer = Committer(client: client, chain: chain, logger: logger)
        queue = BatchQueue(maximumBatch: Self.maximumBatch) { jobs in await committer.process(jobs) }
    }

    /// Runs `operation` in the next batch; returns after that batch has committed.
    func run(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.submit(Job(operation: operation, continuation: continuation))
        }
    }

    /// Runs batches on PostgreSQL.
    private struct Committer: Sendable {
        let client: PostgresClient
        let chain: AuditChain
        let logger: Logger

        /// One batch in one transaction; if it fails as a whole, each operation again on its own.
        func process(_ jobs: [Job]) async {
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

        /// One transaction for `operations`; their outcomes in order.
        ///
        /// The operations are cut into segments in which no device appears twice; a segment's accepts
        /// are one set-based `UPDATE` and its failures another (they touch disjoint rows, so their order
        /// inside the segment does not matter), and segments run in arrival order — the same effects as
        /// one transaction per operation, in a constant number of statements per segment.
        private func commit(_ operations: [Operation]) async throws -> [Outcome] {
            try await client.withTransaction(logger: logger) { c in
                var outcomes = [Outcome?](repeating: nil, count: operations.count)
                var segment: [Int] = []
                var serials = Set<String>()
                func touched(_ operation: Operation) -> [String] {
                    switch operation {
                    case .accept(let a, _): return [a.serial]
                    case .failure(let serials, _, _, _): return serials
                    case .audit: return []
                    }
                }
                var start = 0
                while start < operations.count {
                    segment.removeAll(keepingCapacity: true)
                    serials.removeAll(keepingCapacity: true)
                    var policy: Policy?
                    var i = start
                    while i < operations.count {
                        let rows = touched(operations[i])
                        if rows.contains(where: serials.contains) { break }
                        if case .failure(_, let p, _, _) = operations[i] {
                            if let policy, policy != p { break }
                            policy = p
                        }
                        serials.formUnion(rows)
                        segment.append(i)
                        i += 1
                    }
                    try await self.run(segment.map { ($0, operations[$0]) }, on: c, into: &outcomes)
                    start = i
                }
                var drafts: [AuditDraft] = []
                for (operation, outcome) in zip(operations, outcomes) {
                    switch (operation, outcome) {
                    case (.accept(_, let draft), .accepted(true)?), (.failure(_, _, _, let draft), _), (.audit(let draft), _): drafts.append(draft)
                    default: break
                    }
                }
                if !drafts.isEmpty { try await PostgresMFAStore.append(c, drafts, chain: self.chain, logger: self.logger) }
                return outcomes.map { $0 ?? .appended }
            }
        }

        /// One segment: operations that touch disjoint devices.
        private func run(_ segment: [(index: Int, operation: Operation)], on c: PostgresConnection, into outcomes: inout [Outcome?]) async throws {
            var accepts: [(index: Int, a: Acceptance)] = []
            var failures: [(index: Int, serials: [String], now: Int64)] = []
            var policy = Policy()
            for (index, operation) in segment {
                switch operation {
                case .accept(let a, _): accepts.append((index, a))
                case .failure(let serials, let p, let now, _):
                    failures.append((index, serials, now))
                    policy = p
                case .audit: outcomes[index] = .appended
                }
            }
            if !accepts.isEmpty {
                let accepted = Set(try await c.execute(PostgresMFAStore.AcceptBatch(accepts: accepts.map(\.a)), logger: logger).all())
                for (index, a) in accepts { outcomes[index] = .accepted(accepted.contains(a.serial)) }
            }
            if !failures.isEmpty {
                let rows = failures.flatMap { f in f.serials.map { ($0, f.now) } }
                let statement = PostgresMFAStore.FailureBatch(policy: policy, serials: rows.map(\.0), nows: rows.map(\.1))
                let locked = Set(try await c.execute(statement, logger: logger).all().filter { $0.state == "locked" }.map(\.serial))
                // In the order each caller gave, like one statement per device.
                for f in failures { outcomes[f.index] = .failed(locked: f.serials.filter(locked.contains)) }
            }
        }
    }
}
