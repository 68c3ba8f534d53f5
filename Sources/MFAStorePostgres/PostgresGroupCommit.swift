import Logging
import MFA
import NIOCore
import PostgresNIO
import Synchronization

/// Group commit for the sign-in path's writes (accept, failure count, audit append): the operations
/// that arrive while a batch is committing form the next batch, which is written together and shares
/// one commit.
///
/// Per batch: the sign-ins' devices read with one statement and the sign-ins decided (overlapping the
/// previous batch's write: ``WritePipeline``); then the writes, one batch at a time per process. Usually
/// that is a single statement (``PostgresMFAStore/BatchInOneStatement``); otherwise a transaction with
/// set-based updates per ``Segment`` in arrival order (so two accepts of the same code see each other
/// exactly as in separate transactions), then the audit entries with the signed checkpoint. Device rows
/// are locked before the audit checkpoint's row, like every other write of the store. No operation is
/// answered before its write has committed. If a batch fails as a whole, each of its operations is
/// retried alone, so one cannot fail the others.
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

    init(client: PostgresClient, chain: AuditChain, logger: Logger, executor: (any TaskExecutor)? = nil) {
        let committer = Committer(client: client, chain: chain, logger: logger)
        let writes = WritePipeline(executor: executor)
        queue = BatchQueue(maximumBatch: Self.maximumBatch, executor: executor) { jobs in
            let decided = await committer.decideSignIns(jobs)
            await writes.enqueue { await committer.process(decided) }
        }
    }

    /// The two stages of the batches, overlapped: while one batch writes, the next batch reads its
    /// users' devices and decides its sign-ins. The writes themselves run one batch at a time, in
    /// batch order.
    ///
    /// A decision can therefore rest on a read that does not yet show the previous batch's writes. That
    /// is safe because the writes do not trust the decisions: an acceptance is a compare-and-set on the
    /// watermark and the device state (as it must be anyway, with other server processes on the same
    /// database), and a failure is an increment. An acceptance that loses to the batch before it is
    /// answered and logged as a replay, exactly as when another process wins the race.
    private final class WritePipeline: Sendable {
        private let running = Mutex<Task<Void, Never>?>(nil)
        private let executor: (any TaskExecutor)?

        init(executor: (any TaskExecutor)?) { self.executor = executor }

        /// Waits for the previous batch's write to end, then starts `write` and returns at once:
        /// the caller's next batch accumulates meanwhile, so batches grow when the database is slower
        /// than the decisions.
        func enqueue(_ write: @escaping @Sendable () async -> Void) async {
            await running.withLock { $0 }?.value
            running.withLock { $0 = Task(executorPreference: executor) { await write() } }
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
            // Owners as bytes: PostgreSQL keeps canonically equivalent names apart, and so must this batch.
            let owners = jobs.compactMap { job -> ByteKey? in
                if case .signIn(let owner, _) = job.operation { return ByteKey(owner) }
                return nil
            }
            guard !owners.isEmpty else { return jobs }
            var devices: [ByteKey: [DeviceRecord]] = [:]
            do {
                for device in try await client.execute(PostgresMFAStore.DevicesOfOwners(owners: Set(owners).map(\.string)), logger: logger).all() {
                    if let owner = device.owner { devices[ByteKey(owner), default: []].append(device) }
                }
            } catch {
                for job in jobs { if case .signIn = job.operation { job.continuation.resume(throwing: error) } }
                return jobs.filter { if case .signIn = $0.operation { false } else { true } }
            }
            var decided: [Job] = []
            for job in jobs {
                guard case .signIn(let name, let decide) = job.operation else {
                    decided.append(job)
                    continue
                }
                let owner = ByteKey(name)
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
                    if let index = devices[owner]?.firstIndex(where: { $0.serial.hasSameBytes(as: a.serial) }) { devices[owner]![index].accept(a) }
                case .fail(let serials, let policy, let now, let audit): operation = .failure(serials: serials, policy: policy, now: now, audit)
                case .reject(let audit): operation = .audit(audit)
                }
                decided.append(Job(operation: operation, continuation: job.continuation, signIn: decision))
            }
            return decided
        }

        /// `operations` committed together; their outcomes in order.
        ///
        /// A batch of one segment (see ``Segment``) after a known audit head is one statement
        /// (``PostgresMFAStore/BatchInOneStatement``). Any other batch, or one whose statement met a
        /// concurrent change, is one transaction: each segment's updates in order, then the audit append.
        private func commit(_ operations: [Operation]) async throws -> [Outcome] {
            let expected = head.withLock { $0 }
            let segments = Segment.cut(operations)
            if segments.count == 1, let expected, let outcomes = try await commitInOneStatement(operations, segments[0], after: expected) {
                return outcomes
            }
            let (outcomes, newHead) = try await client.withTransaction(logger: logger) { c in
                var outcomes = [Outcome?](repeating: nil, count: operations.count)
                for segment in segments {
                    let accepted = segment.accepts.isEmpty ? [] : Set(try await c.execute(segment.acceptStatement, logger: self.logger).all().map(ByteKey.init))
                    let locked = segment.failures.isEmpty ? [] : Set(try await c.execute(segment.failureStatement, logger: self.logger).all().filter { $0.state == "locked" }.map { ByteKey($0.serial) })
                    segment.record(accepted: accepted, locked: locked, into: &outcomes)
                }
                let newHead = try await PostgresMFAStore.append(c, Self.drafts(operations, outcomes), chain: self.chain, logger: self.logger, expected: expected)
                return (outcomes.map { $0 ?? .appended }, newHead)
            }
            if let newHead { head.withLock { $0 = newHead } }
            return outcomes
        }

        /// The batch as one statement, assuming every accept takes; nil when PostgreSQL answered with an
        /// error (the statement's implicit transaction rolled back, nothing written): an accept that did
        /// not take, an audit head that had moved (`MFA01`), a deadlock. The caller then takes the
        /// transaction way, which finds out which. Without an answer (a lost connection) whether the
        /// statement committed is unknown: that error is thrown, as for a transaction's lost commit.
        private func commitInOneStatement(_ operations: [Operation], _ segment: Segment, after expected: (sequence: Int64, hash: [UInt8])) async throws -> [Outcome]? {
            // Every accept is assumed to take: if one does not, nothing is written.
            let drafts = operations.compactMap(Self.draft(of:))
            guard !drafts.isEmpty, drafts.count <= PostgresMFAStore.entriesPerStatement else { return nil }
            let entries = chain.entries(after: expected, drafts)
            let last = entries[entries.count - 1]
            let statement = PostgresMFAStore.BatchInOneStatement(
                accepts: segment.acceptStatement, failures: segment.failureStatement,
                append: PostgresMFAStore.AuditAppendAfter(entries: entries[...], checkpoint: chain.checkpoint(for: last), expected: expected))
            let rows: [(serial: String, state: String)?]
            do { rows = try await client.execute(statement, logger: logger).all() } catch let error as PSQLError where error.code == .server { return nil }
            var outcomes = [Outcome?](repeating: nil, count: operations.count)
            segment.record(
                accepted: Set(segment.accepts.map { ByteKey($0.acceptance.serial) }),
                locked: Set(rows.compactMap { $0?.state == "locked" ? $0.map { ByteKey($0.serial) } : nil }), into: &outcomes)
            head.withLock { $0 = (last.sequence, last.hash) }
            return outcomes.map { $0 ?? .appended }
        }

        /// The audit entry `operation` appends when its write takes.
        private static func draft(of operation: Operation) -> AuditDraft? {
            switch operation {
            case .accept(_, let draft), .failure(_, _, _, let draft), .audit(let draft): draft
            case .signIn: nil
            }
        }

        /// The audit entries `operations` append, given their outcomes: an accept's only if it took.
        private static func drafts(_ operations: [Operation], _ outcomes: [Outcome?]) -> [AuditDraft] {
            zip(operations, outcomes).compactMap { operation, outcome in
                if case .accept = operation, !Self.took(outcome) { return nil }
                return draft(of: operation)
            }
        }

        private static func took(_ outcome: Outcome?) -> Bool {
            if case .accepted(true)? = outcome { true } else { false }
        }
    }
}
