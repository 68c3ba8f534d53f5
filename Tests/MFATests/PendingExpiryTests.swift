import Foundation
@testable import MFA
import OTP
import Testing

/// Issue 17, bug 8: a pending device not enabled within the policy's lifetime expires and is deleted
/// (audited), so abandoned enrollments never fill a user's device limit.
@Suite("Pending devices expire: deleted and audited, never counted toward the limit once lapsed")
struct PendingExpiryTests {
    static let day: Int64 = 86_400

    @Test("eight abandoned enrollments fill the limit for 24 h; after that a new device goes in and they are deleted", arguments: StoreKind.inThisRun)
    func limitFreedAfterLapse(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        var abandoned: [String] = []
        for _ in 0..<8 { abandoned.append(try await h.service.createVirtual(user: "abby", actor: "test").serial) }
        // One second before the lifetime ends they still count.
        h.clock.advance(Self.day - 1)
        await #expect(throws: MFAError.self) { try await h.service.createVirtual(user: "abby", actor: "test") }
        #expect(try await h.store.devices(owner: "abby").count == 8)
        h.clock.advance(1)
        let fresh = try await h.service.createVirtual(user: "abby", actor: "test")
        let left = try await h.store.devices(owner: "abby")
        #expect(left.map(\.serial) == [fresh.serial], "the lapsed enrollments were deleted")
        let expired = try await h.service.auditEntries().filter { $0.draft.action == "device.expire" }
        #expect(Set(expired.compactMap(\.draft.serial)) == Set(abandoned))
        #expect(expired.allSatisfy { $0.draft.user == "abby" && $0.draft.result == "ok" && $0.draft.detail.contains("not enabled within 1d") })
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("enabling a lapsed device fails with a message that says why, and deletes it; enabled devices never expire", arguments: StoreKind.inThisRun)
    func enableAfterLapse(kind: StoreKind) async throws {
        var policy = Policy()
        policy.pendingLifetimeSeconds = 600
        let h = try await Harness.make(kind, policy: policy)
        let (kept, _) = try await h.enrolledVirtual("ben")
        let late = try await h.service.createVirtual(user: "ben", actor: "test")
        let secret = try OTPSecret(base32: late.secretBase32)
        h.clock.advance(600)
        let (code1, code2) = (try h.totp(secret, offset: -30), try h.totp(secret))
        do throws(MFAError) {
            try await h.service.enable(user: "ben", serial: late.serial, code1: code1, code2: code2, actor: "test")
            Issue.record("a lapsed device was enabled")
        } catch {
            #expect(error.code == .noSuchDevice && error.message.contains("expired") && error.message.contains("10m"), "\(error.message)")
        }
        #expect(try await h.store.device(serial: late.serial) == nil)
        #expect(try await h.store.device(serial: kept)?.state == .active)
        h.clock.advance(10 * Self.day)
        #expect(try await h.service.expirePending(actor: "serve").isEmpty)
        #expect(try await h.store.device(serial: kept)?.state == .active)
    }

    @Test("the store-wide sweep deletes lapsed pending devices of every user, oldest first, and nothing else", arguments: StoreKind.inThisRun)
    func sweep(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let old1 = try await h.service.createVirtual(user: "cai", actor: "test").serial
        h.clock.advance(10)
        let old2 = try await h.service.createVirtual(user: "dee", actor: "test").serial
        try await h.service.register(serial: "INV-1", kind: .hardwareTOTP, secret: OTPSecret.random(byteCount: 20), actor: "test")
        let (active, _) = try await h.enrolledVirtual("eve")
        h.clock.advance(Self.day - 5)
        let young = try await h.service.createVirtual(user: "cai", actor: "test").serial
        let pending = try await h.service.devices(state: .pending)
        #expect(pending.map(\.serial) == [old1, old2, young], "across users, oldest first")
        #expect(h.service.pendingExpiry(of: pending[0]) == pending[0].createdAt + Self.day)
        h.clock.advance(5)
        let swept = try await h.service.expirePending(actor: "serve")
        #expect(swept.map(\.serial) == [old1, old2])
        #expect(try await h.service.devices(state: .pending).map(\.serial) == [young])
        let inventory = try await h.store.device(serial: "INV-1")
        let enabled = try await h.store.device(serial: active)
        #expect(inventory?.state == .unassigned && enabled?.state == .active)
        #expect(try await h.service.expirePending(actor: "serve").isEmpty, "a second sweep finds nothing")
    }

    @Test("two store instances sweeping at once delete (and audit) each lapsed device once", arguments: StoreKind.inThisRun)
    func concurrentSweeps(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        for i in 0..<20 { _ = try await h.service.createVirtual(user: "u\(i % 5)", actor: "test") }
        h.clock.advance(Self.day)
        let other = MFAService(store: try await h.reopen(), vault: h.vault, policy: h.service.policy, clock: { h.clock.now })
        async let first = h.service.expirePending(actor: "a")
        async let second = other.expirePending(actor: "b")
        let (a, b) = try await (first, second)
        #expect(a.count + b.count == 20 && Set(a.map(\.serial)).isDisjoint(with: b.map(\.serial)))
        #expect(try await h.service.auditEntries().filter { $0.draft.action == "device.expire" }.count == 20)
        #expect(try await h.service.devices(state: .pending).isEmpty)
    }
}
