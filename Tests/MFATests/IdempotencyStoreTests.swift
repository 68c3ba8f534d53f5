import Foundation
import MFA
import Testing

/// Idempotency keys (issue 16, item 3): claims touch one row, expired rows go in indexed batches off
/// the sign-in path, and a pending claim has a short lease.
@Suite("Idempotency entries: one-row claims, a lease for pending ones, indexed batched purges")
struct IdempotencyStoreTests {
    static let hash1 = [UInt8](repeating: 1, count: 32), hash2 = [UInt8](repeating: 2, count: 32)

    @Test("a claim replaces only its own expired row; purges remove the others in bounded batches", arguments: StoreKind.inThisRun)
    func purges(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let t = h.clock.now
        for i in 0..<25 {
            #expect(try await h.store.claimIdempotency(key: "old-\(i)", requestHash: Self.hash1, now: t, ttl: 300, lease: 10) == .claimed)
            try await h.store.completeIdempotency(key: "old-\(i)", response: "rejected")
        }
        // Long after: a new key and an expired key reclaimed; the other expired rows stay for the purge.
        #expect(try await h.store.claimIdempotency(key: "new", requestHash: Self.hash1, now: t + 400, ttl: 300, lease: 10) == .claimed)
        #expect(try await h.store.claimIdempotency(key: "old-0", requestHash: Self.hash2, now: t + 400, ttl: 300, lease: 10) == .claimed)
        #expect(try await h.store.purgeIdempotency(before: t + 100, limit: 10) == 10)
        h.clock.advance(400)
        #expect(try await h.service.purgeExpiredIdempotency(ttl: 300, batch: 5) == 14)
        #expect(try await h.store.purgeIdempotency(before: t + 100, limit: 10) == 0)
        // The fresh rows are untouched: "new" is still pending, "old-0" is the second request's.
        #expect(try await h.store.claimIdempotency(key: "new", requestHash: Self.hash1, now: t + 401, ttl: 300, lease: 10) == .pending)
        #expect(try await h.store.claimIdempotency(key: "old-0", requestHash: Self.hash1, now: t + 401, ttl: 300, lease: 10) == .conflict)
        // The expiry column is indexed (dropping the index fails if there is none).
        try await h.raw("DROP INDEX idempotency_created_at")
        try await h.raw("CREATE INDEX idempotency_created_at ON idempotency (created_at)")
    }

    @Test("a pending claim holds for its lease, then the same request may take it over; another request may not", arguments: StoreKind.inThisRun)
    func lease(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let t = h.clock.now
        #expect(try await h.store.claimIdempotency(key: "k", requestHash: Self.hash1, now: t, ttl: 300, lease: 10) == .claimed)
        #expect(try await h.store.claimIdempotency(key: "k", requestHash: Self.hash1, now: t + 5, ttl: 300, lease: 10) == .pending)
        #expect(try await h.store.claimIdempotency(key: "k", requestHash: Self.hash2, now: t + 11, ttl: 300, lease: 10) == .conflict)
        #expect(try await h.store.claimIdempotency(key: "k", requestHash: Self.hash1, now: t + 11, ttl: 300, lease: 10) == .claimed)
        try await h.store.completeIdempotency(key: "k", response: "rejected")
        // A completed entry is kept for the whole TTL, lease or not.
        #expect(try await h.store.claimIdempotency(key: "k", requestHash: Self.hash1, now: t + 200, ttl: 300, lease: 10) == .completed("rejected"))
    }
}
