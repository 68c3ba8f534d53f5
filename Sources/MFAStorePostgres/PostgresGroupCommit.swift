import Logging
import MFA
import NIOCore
import PostgresNIO

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
            let jobs = await decideSignIns(jobs)
            guard !jobs.isEmpty else { return }
            do {
                let outcomes = try await commit(jobs.map(\.operation))
                for (job, outcome) in zip(jobs, outcomes) { job.continuation.resume(returning: job.answer(outcome)) }
            } catch where jobs.count > 1 {
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
        private func decideSignIns(_ jobs: [Job]) async -> [Job] {
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
                    case .audit, .signIn: return []
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
                case .audit, .signIn: outcomes[index] = .appended
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
