import MFA
import Synchronization

/// What the writer connection remembers of the devices between its transactions, so a sign-in
/// decided inside the writer's transaction needs no read of its own.
///
/// Coherent by construction: only the writer connection reads or changes it, every in-process write
/// to devices either updates the entries it touched (sign-ins) or forgets everything (all other
/// writes), and at the start of each write transaction ``check(dataVersion:)`` forgets everything if
/// another connection (another process, `mfactl --db`) committed since the last one. A job or
/// transaction that fails forgets everything too.
final class WriterCache: Sendable {
    private struct State {
        var devices: [String: [DeviceRecord]] = [:]
        var dataVersion: Int64?
    }

    private let state = Mutex(State())
    /// Owners remembered at most (a flood of unknown user names cannot grow it without bound).
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// `owner`'s devices (ordered by serial) as of the last commit, if remembered.
    func devices(owner: String) -> [DeviceRecord]? {
        state.withLock { $0.devices[owner] }
    }

    func remember(_ devices: [DeviceRecord], owner: String) {
        state.withLock { s in
            if s.devices.count >= capacity { s.devices.removeAll(keepingCapacity: true) }
            s.devices[owner] = devices
        }
    }

    /// Applies `change` to the remembered device `serial` of `owner`, if any.
    func update(owner: String, serial: String, _ change: (inout DeviceRecord) -> Void) {
        state.withLock { s in
            guard var devices = s.devices[owner], let index = devices.firstIndex(where: { $0.serial == serial }) else { return }
            s.devices[owner] = nil  // keeps the array uniquely referenced
            change(&devices[index])
            s.devices[owner] = devices
        }
    }

    func forget(owner: String) {
        state.withLock { _ = $0.devices.removeValue(forKey: owner) }
    }

    func forgetAll() {
        state.withLock { $0.devices.removeAll(keepingCapacity: true) }
    }

    /// Called inside every write transaction before its first job, with `PRAGMA data_version` of the
    /// writer connection: a change means another connection committed since the last transaction.
    func check(dataVersion: Int64) {
        state.withLock { s in
            if s.dataVersion != dataVersion { s.devices.removeAll(keepingCapacity: true) }
            s.dataVersion = dataVersion
        }
    }
}

extension DeviceRecord {
    /// The device as ``SQLiteMFAStore``'s acceptance `UPDATE` leaves its row (kept beside that
    /// statement's meaning; the store's coherence test compares the two).
    mutating func accept(_ a: Acceptance) {
        watermark = a.step
        counter = a.counter
        driftSteps = a.driftSteps
        driftHistory = a.driftHistory
        lastUsedAt = a.now
        failureCount = 0
        lockouts = 0
        lockedUntil = nil
        state = .active
        revision += 1
    }
}
