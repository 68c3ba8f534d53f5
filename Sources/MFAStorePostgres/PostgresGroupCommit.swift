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
/// code see each other exactly as in separate transactions), then the chain head under the checkpoint
/// row's lock, and every audit entry with the signed checkpoint in one statement. Rows are locked
/// before the audit lock, in the same order as every other write of the store, so batches and other
/// transactions never deadlock. No operation is answered before its transaction has committed. If a
/// batch fails as a whole, each of its operations is retried alone, so one cannot fail the others.
final class PostgresGroupCommit: Sendable {
    enum Operation: Sendable {
        case accept(Acceptance, AuditDraft)
        case failure(serials: [String], policy: Policy, now: Int64, AuditDraft)
        case audit(AuditDraft)
        /// A sign-in to decide on `owner`'s devices: the batch reads the devices of all its sign-ins
        /// with one statement, decides them in arrival order (each seeing the acceptances decided
        /// before it) and commits the decisions as the three operations above.
        case signIn(owner: String, decide: @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
    }

    enum Outcome: Sendable {
        /// Whether the compare-and-set took (the code was not used before).
        case accepted(Bool)
        /// The devices this failure locked.
        case failed(locked: [String])
        case appended
        /// A sign-in's outcome; `lostRace` is the audit entry of an acceptance whose compare-and-set
        /// did not take (another process accepted first), still to be logged as a replay.
        case signedIn(SignInOutcome, lostRace: AuditDraft?)
    }

    private struct Job: Sendable {
        let operation: Operation
        let continuation: CheckedContinuation<Outcome, any Error>
        /// The decision `operation` commits, when the job was a sign-in.
        var signIn: SignInDecision? = nil

        /// What the caller is told about `outcome`.
        func answer(_ outcome: Outcome) -> Outcome {
            guard let signIn else { return outcome }
            switch (signIn, outcome) {
            case (.accept(let a, _), .accepted(true)): return .signedIn(.accepted(serial: a.serial), lostRace: nil)
            case (.accept(let a, let audit), _): return .signedIn(.rejected(locked: []), lostRace: audit.replay(of: a.serial))
            case (_, .failed(let locked)): return .signedIn(.rejected(locked: locked), lostRace: nil)
            default: return .signedIn(.rejected(locked: []), lostRace: nil)
            }
        }
    }

    /// Up to 256 operations per transaction (10 parameters per audit row, far below 65 535).
    static let maximumBatch = 256
    private let queue: BatchQueue<Job>

    init(client: PostgresClient, chain: AuditChain, logger: Logger) {
        let committer = Committer(client: client, chain: chain, logger: logger)
        let writes = WritePipeline()
        queue = BatchQueue(maximumBatch: Self.maximumBatch) { jobs in
            let decided = await committer.decideSignIns(jobs)
            await writes.enqueue { await committer.process(decided) }
        }
    }

    /// The two stages of the batches, overlapped: while one batch's transaction runs, the next batch
    /// reads its users' devices and decides its sign-ins. The transactions themselves run one at a
    /// time, in batch order.
    ///
    /// A decision can therefore rest on a read that does not yet show the previous batch's writes. That
    /// is safe because the writes do not trust the decisions: an acceptance is a compare-and-set on the
    /// watermark and the device state (as it must be anyway, with other server processes on the same
    /// database), and a failure is an increment. An acceptance that loses to the batch before it is
    /// answered and logged as a replay, exactly as when another process wins the race.
    private final class WritePipeline: Sendable {
        private let running = Mutex<Task<Void, Never>?>(nil)

        /// Waits for the previous batch's transaction to end, then starts `write` and returns at once:
        /// the caller's next batch accumulates meanwhile, so batches grow when the database is slower
        /// than the decisions.
        func enqueue(_ write: @escaping @Sendable () async -> Void) async {
            await running.withLock { $0 }?.value
            running.withLock { $0 = Task { await write() } }
        }
    }

    /// Runs `operation` in the next batch; returns after that batch has committed.
    func run(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.submit(Job(operation: operation, continuation: continuation))
        }
    }

    /// Runs batches on PostgreSQL.
    private final class Committer: Sendable {
        let client: PostgresClient
        let chain: AuditChain
        let logger: Logger
        /// The audit chain's head as this process's last batch committed it (nil: not known). The
        /// next batch offers its entries after it, in one round trip; a head moved meanwhile by another
        /// transaction or process only costs that batch the locked way.
        private let head = Mutex<(sequence: Int64, hash: [UInt8])?>(nil)

        init(client: PostgresClient, chain: AuditChain, logger: Logger) {
            self.client = client
            self.chain = chain
            self.logger = logger
        }

        /// One batch of decided jobs in one transaction; if it fails as a whole, each operation again
        /// on its own.
        func process(_ jobs: [Job]) async {
            guard !jobs.isEmpty else { return }
            do {
                let outcomes = try await commit(jobs.map(\.operation))
                for (job, outcome) in zip(jobs, outcomes) { job.continuation.resume(returning: job.answer(outcome)) }
            } catch where jobs.count > 1 {
                head.withLock { $0 = nil }
                for job in jobs {
                    do { job.continuation.resume(returning: job.answer(try await commit([job.operation])[0])) } catch { job.continuation.resume(throwing: error) }
                }
            } catch {
                jobs[0].continuation.resume(throwing: error)
            }
        }

        /// Replaces each sign-in by the operation its decision commits (answered through a
        /// continuation that maps the outcome back); sign-ins whose read or decision fails are answered
        /// with the error and leave the batch.
        func decideSignIns(_ jobs: [Job]) async -> [Job] {
            let owners = jobs.compactMap { job -> String? in
                if case .signIn(let owner, _) = job.operation { return owner }
                return nil
            }
            guard !owners.isEmpty else { return jobs }
            var devices: [String: [DeviceRecord]] = [:]
            do {
                for device in try await client.execute(PostgresMFAStore.DevicesOfOwners(owners: Array(Set(owners))), logger: logger).all() {
                    if let owner = device.owner { devices[owner, default: []].append(device) }
                }
            } catch {
                for job in jobs { if case .signIn = job.operation { job.continuation.resume(throwing: error) } }
                return jobs.filter { if case .signIn = $0.operation { false } else { true } }
            }
            var decided: [Job] = []
            for job in jobs {
                guard case .signIn(let owner, let decide) = job.operation else {
                    decided.append(job)
                    continue
                }
                let decision: SignInDecision
                do { decision = try decide(devices[owner] ?? []) } catch {
                    job.continuation.resume(throwing: error)
                    continue
                }
                let operation: Operation
                switch decision {
                case .accept(let a, let audit):
                    operation = .accept(a, audit)
                    // Later sign-ins of this batch see the acceptance (a duplicate is a replay).
                    if let index = devices[owner]?.firstIndex(where: { $0.serial == a.serial }) { devices[owner]![index].accept(a) }
                case .fail(let serials, let policy, let now, let audit): operation = .failure(serials: serials, policy: policy, now: now, audit)
                case .reject(let audit): operation = .audit(audit)
                }
                decided.append(Job(operation: operation, continuation: job.continuation, signIn: decision))
            }
            return decided
        }

        /// One transaction for `operations`; their outcomes in order.
        ///
        /// The operations are cut into segments in arrival order; a segment's accepts are one set-based
        /// `UPDATE` and its failures another, and segments run in arrival order. Inside a segment an
        /// accepted device appears once and no failure touches it; failures of one device may repeat
        /// (they become one counted row: see ``FailureBatch``), unless a lock could expire at once
        /// (a zero lock duration), when each must see the one before. The same effects as one
        /// transaction per operation, in a constant number of statements per segment.
        private func commit(_ operations: [Operation]) async throws -> [Outcome] {
            let expected = head.withLock { $0 }
            let (outcomes, newHead) = try await client.withTransaction(logger: logger) { c in
                var outcomes = [Outcome?](repeating: nil, count: operations.count)
                var segment: [Int] = []
                var accepted = Set<String>()
                var failed = Set<String>()
                var start = 0
                while start < operations.count {
                    segment.removeAll(keepingCapacity: true)
                    accepted.removeAll(keepingCapacity: true)
                    failed.removeAll(keepingCapacity: true)
                    var policy: Policy?
                    var i = start
                    scan: while i < operations.count {
                        switch operations[i] {
                        case .accept(let a, _):
                            if accepted.contains(a.serial) || failed.contains(a.serial) { break scan }
                            accepted.insert(a.serial)
                        case .failure(let serials, let p, _, _):
                            if let policy, policy != p { break scan }
                            let repeats = p.baseLockSeconds > 0 && p.maximumLockSeconds > 0
                            if serials.contains(where: { accepted.contains($0) || (!repeats && failed.contains($0)) }) { break scan }
                            policy = p
                            failed.formUnion(serials)
                        case .audit, .signIn: break
                        }
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
                let newHead = try await PostgresMFAStore.append(c, drafts, chain: self.chain, logger: self.logger, expected: expected)
                return (outcomes.map { $0 ?? .appended }, newHead)
            }
            if let newHead { head.withLock { $0 = newHead } }
            return outcomes
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
                case .audit, .signIn: outcomes[index] = .appended
                }
            }
            if !accepts.isEmpty {
                let accepted = Set(try await c.execute(PostgresMFAStore.AcceptBatch(accepts: accepts.map(\.a)), logger: logger).all())
                for (index, a) in accepts { outcomes[index] = .accepted(accepted.contains(a.serial)) }
            }
            if !failures.isEmpty {
                // One row per device: how many of the segment's failures it takes, and the last time.
                var rows: [String: (count: Int64, now: Int64)] = [:]
                var order: [String] = []
                for f in failures {
                    for serial in f.serials {
                        if let row = rows[serial] { rows[serial] = (row.count + 1, max(row.now, f.now)) } else {
                            rows[serial] = (1, f.now)
                            order.append(serial)
                        }
                    }
                }
                let statement = PostgresMFAStore.FailureBatch(
                    policy: policy, serials: order, nows: order.map { rows[$0]!.now }, counts: order.map { rows[$0]!.count })
                var locked = Set(try await c.execute(statement, logger: logger).all().filter { $0.state == "locked" }.map(\.serial))
                // A lock is reported once, to the last of the device's failures (in the order each caller
                // gave its devices): one `device.lock` audit entry per lock, as with one statement each.
                for f in failures.reversed() {
                    let mine = f.serials.filter { locked.remove($0) != nil }
                    outcomes[f.index] = .failed(locked: mine)
                }
            }
        }
    }
}
