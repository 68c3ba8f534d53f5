import MFA

extension PostgresGroupCommit {
    /// A run of a batch's operations, in arrival order, whose device writes go to PostgreSQL together:
    /// its accepts as one set-based `UPDATE`, its failures as another.
    ///
    /// Inside a segment an accepted device appears once and no failure touches it; failures of one
    /// device may repeat (they become one counted row: see `FailureBatch`), unless a lock could expire
    /// at once (a zero lock duration), when each must see the one before. Running the segments in order
    /// has the same effects as one transaction per operation.
    struct Segment {
        var accepts: [(index: Int, acceptance: Acceptance)] = []
        var failures: [(index: Int, serials: [String], now: Int64)] = []
        var policy = Policy()
        /// Operations that only append to the audit log.
        var appends: [Int] = []

        /// `operations` cut into segments, in order.
        static func cut(_ operations: [Operation]) -> [Segment] {
            var segments: [Segment] = []
            var current = Segment()
            var accepted = Set<ByteKey>()  // serials as bytes
            var failed = Set<ByteKey>()
            var hasPolicy = false
            func close() {
                segments.append(current)
                current = Segment()
                accepted.removeAll(keepingCapacity: true)
                failed.removeAll(keepingCapacity: true)
                hasPolicy = false
            }
            for (index, operation) in operations.enumerated() {
                switch operation {
                case .accept(let a, _):
                    let serial = ByteKey(a.serial)
                    if accepted.contains(serial) || failed.contains(serial) { close() }
                    accepted.insert(serial)
                    current.accepts.append((index, a))
                case .failure(let serials, let policy, let now, _):
                    let repeats = policy.baseLockSeconds > 0 && policy.maximumLockSeconds > 0
                    if (hasPolicy && current.policy != policy) || serials.contains(where: { accepted.contains(ByteKey($0)) || (!repeats && failed.contains(ByteKey($0))) }) {
                        close()
                    }
                    current.policy = policy
                    hasPolicy = true
                    failed.formUnion(serials.map(ByteKey.init))
                    current.failures.append((index, serials, now))
                case .audit, .signIn:
                    current.appends.append(index)
                }
            }
            if !current.accepts.isEmpty || !current.failures.isEmpty || !current.appends.isEmpty { close() }
            return segments
        }

        /// The accepts' compare-and-set statement (any empty statement matches nothing).
        var acceptStatement: PostgresMFAStore.AcceptBatch { PostgresMFAStore.AcceptBatch(accepts: accepts.map(\.acceptance)) }

        /// The failures' statement: one row per device, with how many of the segment's failures it
        /// takes and the last time.
        var failureStatement: PostgresMFAStore.FailureBatch {
            var rows: [ByteKey: (count: Int64, now: Int64)] = [:]
            var order: [ByteKey] = []
            for f in failures {
                for serial in f.serials.map(ByteKey.init) {
                    if let row = rows[serial] { rows[serial] = (row.count + 1, max(row.now, f.now)) } else {
                        rows[serial] = (1, f.now)
                        order.append(serial)
                    }
                }
            }
            return PostgresMFAStore.FailureBatch(
                policy: policy, serials: order.map(\.string), nows: order.map { rows[$0]!.now }, counts: order.map { rows[$0]!.count })
        }

        /// Records the segment's outcomes: `accepted` holds the serials whose compare-and-set took,
        /// `locked` those the failures locked. A lock is reported once, to the last of the device's
        /// failures: one `device.lock` audit entry per lock, as with one statement per failure.
        func record(accepted: Set<ByteKey>, locked: Set<ByteKey>, into outcomes: inout [Outcome?]) {
            for (index, a) in accepts { outcomes[index] = .accepted(accepted.contains(ByteKey(a.serial))) }
            var locked = locked
            for f in failures.reversed() { outcomes[f.index] = .failed(locked: f.serials.filter { locked.remove(ByteKey($0)) != nil }) }
            for index in appends { outcomes[index] = .appended }
        }
    }
}
