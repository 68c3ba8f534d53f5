import Foundation
import MFA
import OTP
import Testing

/// `--lockout-decay` (issue 16, item 5): failures are forgotten after a quiet period, so a user whose
/// name is known to an attacker is not locked out by guesses spread thinly over days; without it,
/// failures count until a success, an unlock or a resync.
@Suite("Lockout decay: failures forgotten after a quiet period, on both stores")
struct LockoutDecayTests {
    static func policy(decay: Int64) -> Policy {
        var policy = Policy()
        policy.lockoutThreshold = 3
        policy.lockoutDecaySeconds = decay
        return policy
    }

    @Test("two failures, a quiet period, two more: not locked with a decay, locked without", arguments: StoreKind.inThisRun, [Int64(0), 600])
    func decay(kind: StoreKind, decay: Int64) async throws {
        let h = try await Harness.make(kind, policy: Self.policy(decay: decay))
        let (serial, _) = try await h.enrolledVirtual("dora")
        func fail() async throws { #expect(try await h.service.verify(user: "dora", code: "000000", actor: "t") == .rejected) }
        try await fail()
        try await fail()
        h.clock.advance(700)
        try await fail()
        var device = try #require(try await h.store.device(serial: serial))
        #expect(device.failureCount == (decay > 0 ? 1 : 3), "decay \(decay)")
        #expect(device.state == (decay > 0 ? .active : .locked), "decay \(decay)")
        guard decay > 0 else { return }
        // Failures close together still lock at the threshold.
        h.clock.advance(10)
        try await fail()
        h.clock.advance(10)
        try await fail()
        device = try #require(try await h.store.device(serial: serial))
        #expect(device.failureCount == 3 && device.state == .locked)
    }

    @Test("concurrent failures after the quiet period start the count again once, not once each", arguments: StoreKind.inThisRun)
    func concurrentAfterQuiet(kind: StoreKind) async throws {
        var policy = Self.policy(decay: 600)
        policy.lockoutThreshold = 100
        let h = try await Harness.make(kind, policy: policy)
        let (serial, _) = try await h.enrolledVirtual("ezra")
        for _ in 0..<5 { _ = try await h.service.verify(user: "ezra", code: "000000", actor: "t") }
        h.clock.advance(700)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { _ = try await h.service.verify(user: "ezra", code: "000000", actor: "t") } }
            try await group.waitForAll()
        }
        #expect(try #require(try await h.store.device(serial: serial)).failureCount == 6)
    }
}
