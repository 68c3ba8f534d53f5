import MFA
import PostgresNIO

// MARK: Sign-in: through the group commit's batches

extension PostgresMFAStore {
    /// Decided in the group commit's batch: one read for all the batch's sign-ins, then their
    /// decisions committed together (compare-and-set on every acceptance, as other processes write too).
    public func signIn(owner: String, _ decide: @escaping @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
        async throws(MFAError) -> SignInOutcome
    {
        guard case .signedIn(let outcome, let lostRace) = try await guarded({ try await self.commits.run(.signIn(owner: owner, decide: decide)) }) else {
            throw MFAError(.storeUnavailable, "PostgreSQL: a sign-in got an answer of another kind")
        }
        if let lostRace { try await appendAudit(lostRace) }
        return outcome
    }

    public func accept(_ a: Acceptance, audit: AuditDraft) async throws(MFAError) -> Bool {
        guard case .accepted(let changed) = try await guarded({ try await self.commits.run(.accept(a, audit)) }) else { return false }
        return changed
    }

    public func recordFailure(serials: [String], policy: Policy, now: Int64, audit: AuditDraft) async throws(MFAError) -> [String] {
        guard case .failed(let locked) = try await guarded({ try await self.commits.run(.failure(serials: serials, policy: policy, now: now, audit)) }) else {
            return []
        }
        return locked
    }
}
