/// What a sign-in decided from a user's devices, for the store to commit together with the read it
/// was decided on (``MFAStore/signIn(owner:_:)``).
public enum SignInDecision: Sendable, Hashable {
    /// Move the device's replay watermark (compare-and-set, ``MFAStore/accept(_:audit:)``).
    case accept(Acceptance, audit: AuditDraft)
    /// Count one failure on each device of `serials` (``MFAStore/recordFailure(serials:policy:now:audit:)``).
    case fail(serials: [String], policy: Policy, now: Int64, audit: AuditDraft)
    /// Change nothing but the audit log (a replayed code: not a guess, so no failure is counted).
    case reject(audit: AuditDraft)
}

/// What a committed ``SignInDecision`` came to.
public enum SignInOutcome: Sendable, Hashable {
    case accepted(serial: String)
    /// `locked`: the serials this rejection's failure count locked.
    case rejected(locked: [String])
}

extension MFAStore {
    /// Reads `owner`'s devices, lets `decide` judge them and commits the decision. Stores that can do
    /// better (one writer that decides inside its own transaction) implement their own; this one relies
    /// on the compare-and-set of ``accept(_:audit:)``, so a decision taken on a stale read is never
    /// accepted twice.
    public func signIn(owner: String, _ decide: @escaping @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
        async throws(MFAError) -> SignInOutcome
    {
        try await commit(try decide(try await devices(owner: owner)))
    }

    /// Commits `decision` with the store's conditional updates. An acceptance that lost its race (the
    /// watermark moved meanwhile) is logged as a replay and rejected.
    public func commit(_ decision: SignInDecision) async throws(MFAError) -> SignInOutcome {
        switch decision {
        case .accept(let acceptance, let audit):
            if try await accept(acceptance, audit: audit) { return .accepted(serial: acceptance.serial) }
            try await appendAudit(audit.replay(of: acceptance.serial))
            return .rejected(locked: [])
        case .fail(let serials, let policy, let now, let audit):
            return .rejected(locked: try await recordFailure(serials: serials, policy: policy, now: now, audit: audit))
        case .reject(let audit):
            try await appendAudit(audit)
            return .rejected(locked: [])
        }
    }
}

extension DeviceRecord {
    /// The device as a committed `acceptance` leaves it: the stores' acceptance update (`accept(_:audit:)`)
    /// in memory, for stores that decide on remembered rows (the SQLite store's coherence test compares
    /// the two).
    public mutating func accept(_ acceptance: Acceptance) {
        watermark = acceptance.step
        counter = acceptance.counter
        driftSteps = acceptance.driftSteps
        driftHistory = acceptance.driftHistory
        lastUsedAt = acceptance.now
        failureCount = 0
        lockouts = 0
        lockedUntil = nil
        state = .active
        revision += 1
    }
}

extension AuditDraft {
    /// The entry of an acceptance that turned out to be a replay.
    public func replay(of serial: String) -> AuditDraft {
        var draft = self
        draft.serial = serial
        draft.result = "rejected"
        draft.detail = "replay"
        return draft
    }
}
