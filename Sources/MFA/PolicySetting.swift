import Synchronization

/// The service's policy, replaceable while it runs: `mfactl serve` re-reads its settings on SIGHUP,
/// and every copy of an ``MFAService`` (they share this box) applies the new windows and lockout
/// from the next request on. The rate limiters' budgets are fixed when the service is made.
final class PolicySetting: Sendable {
    private let value: Mutex<Policy>

    init(_ policy: Policy) { value = Mutex(policy) }

    func withLock<T>(_ body: (inout Policy) -> T) -> T { value.withLock { body(&$0) } }
}

extension MFAService {
    /// Makes `policy` the one in force (a running server's reload): requests read it as they go, so
    /// one already under way may see the new windows from its next step on.
    /// `changes` (what an admin changed, never a secret) goes to the audit as `service.reload`, so a
    /// loosened lockout shows up in the chain like any other change of who gets in.
    /// The entry is appended first: when the store cannot take it, the old policy stays in force.
    public func reload(policy: Policy, changes: String, actor: String) async throws(MFAError) {
        try await store.appendAudit(AuditDraft(time: clock(), actor: actor, action: "service.reload", result: "ok", detail: changes))
        policySetting.withLock { $0 = policy }
    }
}
