import MFA
import Synchronization

/// What the writer connection remembers between its transactions: the devices, so a sign-in decided
/// inside the writer's transaction needs no read of its own, and the audit chain's head, so an append
/// needs no lookup and the signed checkpoint moves once per transaction instead of once per entry.
///
/// Coherent by construction: only the writer connection reads or changes it; every in-process write
/// to devices either updates the entries it touched (sign-ins) or forgets every device (all other
/// writes); at the start of each write transaction ``begin(dataVersion:)`` forgets everything if
/// another connection (another process, `mfactl --db`) committed since the last one; and a job or a
/// transaction that fails forgets everything (``failed()``).
final class WriterCache: Sendable {
    /// The audit chain's last entry as the writer knows it.
    enum Head {
        case unknown
        case entry(sequence: Int64, hash: [UInt8])
    }

    /// The checkpoint the current transaction must write before it commits.
    enum CheckpointDue {
        /// For the entry the writer appended last, signed by `chain`.
        case entry(sequence: Int64, hash: [UInt8], chain: AuditChain)
        /// For whatever the head is now (an append of this transaction was rolled back).
        case head
    }

    private struct State {
        var devices: [ByteKey: [DeviceRecord]] = [:]  // owners as bytes, never canonical equivalence
        var head = Head.unknown
        var checkpointDue: CheckpointDue?
        var dataVersion: Int64?
    }

    private let state = Mutex(State())
    /// Owners remembered at most (a flood of unknown user names cannot grow it without bound).
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// `owner`'s devices (ordered by serial) as of the last commit, if remembered.
    func devices(owner: String) -> [DeviceRecord]? {
        state.withLock { $0.devices[ByteKey(owner)] }
    }

    func remember(_ devices: [DeviceRecord], owner: String) {
        state.withLock { s in
            if s.devices.count >= capacity { s.devices.removeAll(keepingCapacity: true) }
            s.devices[ByteKey(owner)] = devices
        }
    }

    /// Applies `change` to the remembered device `serial` of `owner`, if any.
    func update(owner: String, serial: String, _ change: (inout DeviceRecord) -> Void) {
        state.withLock { s in
            let owner = ByteKey(owner)
            guard var devices = s.devices[owner], let index = devices.firstIndex(where: { $0.serial.hasSameBytes(as: serial) }) else { return }
            s.devices[owner] = nil  // keeps the array uniquely referenced
            change(&devices[index])
            s.devices[owner] = devices
        }
    }

    func forget(owner: String) {
        state.withLock { _ = $0.devices.removeValue(forKey: ByteKey(owner)) }
    }

    /// Forgets the devices and the audit head (after raw SQL).
    func forgetEverything() {
        state.withLock { s in
            s.devices.removeAll(keepingCapacity: true)
            s.head = .unknown
        }
    }

    /// Forgets every device (after a write that may have changed any of them).
    func forgetDevices() {
        state.withLock { $0.devices.removeAll(keepingCapacity: true) }
    }

    /// Called inside every write transaction before its first job, with `PRAGMA data_version` of the
    /// writer connection: a change means another connection committed since the last transaction.
    /// GRDB begins write transactions `IMMEDIATE`, so the write lock is already held: nothing else can
    /// commit between this check and the transaction's own commit.
    func begin(dataVersion: Int64) {
        state.withLock { s in
            if s.dataVersion != dataVersion {
                s.devices.removeAll(keepingCapacity: true)
                s.head = .unknown
            }
            s.dataVersion = dataVersion
            s.checkpointDue = nil  // left over only by a transaction that failed
        }
    }

    /// A job or a transaction failed: what it rolled back may be remembered here.
    func failed() {
        state.withLock { s in
            s.devices.removeAll(keepingCapacity: true)
            s.head = .unknown
            if s.checkpointDue != nil { s.checkpointDue = .head }
        }
    }

    var head: Head { state.withLock { $0.head } }

    /// Records an append inside the current transaction: the new head, whose checkpoint is due.
    func appended(sequence: Int64, hash: [UInt8], chain: AuditChain) {
        state.withLock { s in
            s.head = .entry(sequence: sequence, hash: hash)
            s.checkpointDue = .entry(sequence: sequence, hash: hash, chain: chain)
        }
    }

    /// The checkpoint due before the commit, if any; it is no longer due after this call.
    func takeCheckpointDue() -> CheckpointDue? {
        state.withLock { s in
            defer { s.checkpointDue = nil }
            return s.checkpointDue
        }
    }
}
