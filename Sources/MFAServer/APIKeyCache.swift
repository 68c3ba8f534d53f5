import Foundation
import MFA
import Synchronization

/// Recently verified API keys, so a busy sign-in gateway's key is not read from the store on every
/// request. Only keys that authenticated are kept, for `lifetime` seconds; the token's secret is
/// still checked against the stored hash on every request. A key revoked by another process (or
/// by `mfactl api-key revoke` on the store) stops working here within `lifetime` seconds.
public final class APIKeyCache: Sendable {
    private struct Entry {
        let record: APIKeyRecord
        let expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[ByteKey: Entry]>([:])  // key ids as bytes
    let lifetime: Duration
    /// Bounds the memory a flood of distinct valid keys could take.
    let capacity = 10_000

    public init(lifetime: Duration = .seconds(2)) { self.lifetime = lifetime }

    /// Forgets every key (`serve`'s reload): the next request of each key reads it from the store, so a
    /// key revoked by another process stops here at once rather than within ``lifetime``.
    public func removeAll() {
        entries.withLock { $0.removeAll() }
        emptied.add(1, ordering: .releasing)
    }

    /// How many times the cache was emptied: a connection's memo of a key (``KeyMemo``) holds only
    /// while this is what it was when the key was looked up.
    var generation: Int { emptied.load(ordering: .acquiring) }
    private let emptied = Atomic<Int>(0)

    /// How many keys are remembered.
    var count: Int { entries.withLock { $0.count } }

    /// The key `token` belongs to when the cache holds it fresh and the secret matches; nil
    /// otherwise (unknown, expired, wrong secret), without touching the store.
    /// `until` is when the cache entry expires: a caller may reuse the answer for the same token until then.
    func cached(_ token: String) -> (record: APIKeyRecord, until: ContinuousClock.Instant)? {
        guard let (id, secret) = APIKeyTokens.parse(token), let entry = fresh(id, at: .now),
              APIKeyTokens.matches(entry.record, secret: secret) else { return nil }
        return (entry.record, entry.expires)
    }

    /// The entry for key `id` if it has not expired at `now`.
    private func fresh(_ id: String, at now: ContinuousClock.Instant) -> Entry? {
        guard let entry = entries.withLock({ $0[ByteKey(id)] }), entry.expires > now else { return nil }
        // A key's own expiry ends it here too, not up to a cache lifetime later.
        if entry.record.expiresAt != nil, !entry.record.isUsable(at: Int64(Date().timeIntervalSince1970)) { return nil }
        return entry
    }

    /// The key `token` belongs to, from the cache when fresh, else from `service`.
    func authenticate(_ token: String, service: MFAService) async throws(MFAError) -> APIKeyRecord? {
        guard let (id, secret) = APIKeyTokens.parse(token) else { return nil }
        let now = ContinuousClock.now
        if let entry = fresh(id, at: now) {
            return APIKeyTokens.matches(entry.record, secret: secret) ? entry.record : nil
        }
        guard let record = try await service.authenticate(token: token) else {
            entries.withLock { _ = $0.removeValue(forKey: ByteKey(id)) }
            return nil
        }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[ByteKey(id)] = Entry(record: record, expires: now + lifetime)
        }
        return record
    }
}
