/// Pending devices expire: an enrollment not enabled within ``Policy/pendingLifetimeSeconds`` is
/// deleted (audited `device.expire`), so abandoned enrollments never fill a user's device limit.
/// `serve` sweeps every store-wide; a new device for a user over the limit, and an enable of a lapsed
/// device, expire that user's lapsed ones first, so no sweep has to have run for the limit to hold.
extension MFAService {
    /// When `device`'s enrollment lapses: nil unless it is pending.
    public func pendingExpiry(of device: DeviceRecord) -> Int64? {
        device.state == .pending ? device.createdAt + policy.pendingLifetimeSeconds : nil
    }

    func hasLapsed(_ device: DeviceRecord, now: Int64) -> Bool {
        pendingExpiry(of: device).map { $0 <= now } ?? false
    }

    /// Every device in `state`, oldest first (for pending ones, their expiry is ``pendingExpiry(of:)``).
    public func devices(state: DeviceState) async throws(MFAError) -> [DeviceRecord] {
        try await store.devices(state: state, createdBefore: .max)
    }

    /// Deletes up to `limit` lapsed pending devices, oldest first, each with its audit entry; returns
    /// the ones this call deleted (another process may have taken some first).
    @discardableResult
    public func expirePending(actor: String, limit: Int = 1_000) async throws(MFAError) -> [DeviceRecord] {
        let now = clock()
        let (cutoff, overflow) = (now - policy.pendingLifetimeSeconds).addingReportingOverflow(1)
        let lapsed = try await store.devices(state: .pending, createdBefore: overflow ? .min : cutoff)
        var expired: [DeviceRecord] = []
        for device in lapsed.prefix(limit) {
            if try await expire(device, now: now, actor: actor) { expired.append(device) }
        }
        return expired
    }

    /// Expires `owner`'s lapsed pending devices; returns how many went.
    func expirePending(owner: String, now: Int64, actor: String) async throws(MFAError) -> Int {
        var count = 0
        for device in try await store.devices(owner: owner) where hasLapsed(device, now: now) {
            if try await expire(device, now: now, actor: actor) { count += 1 }
        }
        return count
    }

    /// Refuses to enable a lapsed pending device, deleting it (audited) on the way.
    func refuseIfLapsed(_ device: DeviceRecord, now: Int64, actor: String) async throws(MFAError) {
        guard hasLapsed(device, now: now) else { return }
        _ = try await expire(device, now: now, actor: actor)
        throw MFAError(
            .noSuchDevice,
            "the enrollment of device \(device.serial) expired: it was pending since \(SecondsText.iso(device.createdAt)) and pending devices "
                + "expire after \(SecondsText.describe(policy.pendingLifetimeSeconds)); it was deleted, so enroll again")
    }

    /// Inserts a device for an owner within the per-owner limit (see ``withinLimit(owner:now:actor:_:)``).
    func insertWithinLimit(_ record: DeviceRecord, audit: AuditDraft) async throws(MFAError) {
        try await withinLimit(owner: record.owner, now: audit.time, actor: audit.actor) { () throws(MFAError) in
            try await store.insert(record, maximumPerOwner: policy.maximumDevicesPerUser, audit: audit)
        }
    }

    /// Runs a store call that checks `owner`'s device limit; at the limit, the owner's lapsed pending
    /// devices are expired and the call tried once more.
    func withinLimit<T>(owner: String?, now: Int64, actor: String, _ call: () async throws(MFAError) -> T) async throws(MFAError) -> T {
        do throws(MFAError) {
            return try await call()
        } catch where error.code == .limitExceeded {
            guard let owner, try await expirePending(owner: owner, now: now, actor: actor) > 0 else { throw error }
            return try await call()
        }
    }

    private func expire(_ device: DeviceRecord, now: Int64, actor: String) async throws(MFAError) -> Bool {
        let detail = "pending since \(SecondsText.iso(device.createdAt)), not enabled within \(SecondsText.describe(policy.pendingLifetimeSeconds))"
        return try await store.delete(
            serial: device.serial, revision: device.revision,
            audit: AuditDraft(time: now, actor: actor, action: "device.expire", user: device.owner, serial: device.serial, result: "ok", detail: detail))
    }
}
