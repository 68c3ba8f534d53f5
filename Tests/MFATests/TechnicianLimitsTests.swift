import Foundation
@testable import MFA
import OTP
import Testing

/// `diagnose` and a technician's `unlock` (issue 16, item 2): useful to a technician with the user on
/// the phone, useless as a code oracle or a way around the lockout.
@Suite("Technician tools: diagnose is no code oracle, unlocks are bounded, every call audited")
struct TechnicianLimitsTests {
    @Test("diagnose: a match ahead of the sign-in window has no offset; behind and inside keep theirs", arguments: StoreKind.inThisRun)
    func aheadIsCoarse(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("gina")
        let ahead = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: 3_000), actor: "key:tech")
        #expect(ahead.found && ahead.aheadOfSignInWindow && ahead.offset == nil && ahead.offsetSeconds == nil && !ahead.withinSignInWindow)
        // Two steps ahead is already beyond the ±1 window.
        let twoAhead = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: 60), actor: "key:tech")
        #expect(twoAhead.found && twoAhead.aheadOfSignInWindow && twoAhead.offset == nil)
        let behind = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: -3_000), actor: "key:tech")
        #expect(behind.found && !behind.aheadOfSignInWindow && behind.offset == -100 && behind.offsetSeconds == -3_000)
        let next = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: 30), actor: "key:tech")
        #expect(next.found && next.offset == 1 && next.withinSignInWindow && !next.aheadOfSignInWindow)
        // Found codes cost nothing.
        #expect(try #require(try await h.store.device(serial: serial)).failureCount == 0)
        let audited = try await h.service.auditEntries().filter { $0.draft.action == "device.diagnose" }
        #expect(audited.count == 4 && audited.allSatisfy { $0.draft.actor == "key:tech" && $0.draft.serial == serial && $0.draft.result == "found" })
    }

    @Test("diagnose: HOTP counters ahead of the look-ahead are coarse too", arguments: StoreKind.inThisRun)
    func hotpAhead(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let secret = try OTPSecret(bytes: Array("12345678901234567890".utf8))
        try await h.service.register(serial: "HOTP-1", kind: .hardwareHOTP, secret: secret, owner: "hal", actor: "test")
        let hotp = try HOTP(secret: secret)
        try await h.service.enable(user: "hal", serial: "HOTP-1", code1: hotp.code(counter: 0).description, code2: hotp.code(counter: 1).description, actor: "test")
        // Next expected counter: 2; look-ahead 10.
        let inside = try await h.service.diagnose(serial: "HOTP-1", code: hotp.code(counter: 12).description, actor: "t")
        #expect(inside.found && inside.offset == 10 && inside.withinSignInWindow && !inside.aheadOfSignInWindow)
        let ahead = try await h.service.diagnose(serial: "HOTP-1", code: hotp.code(counter: 13).description, actor: "t")
        #expect(ahead.found && ahead.offset == nil && ahead.aheadOfSignInWindow && !ahead.withinSignInWindow)
    }

    @Test("diagnose: a code that matches nothing is a failure; ten of them lock the device", arguments: StoreKind.inThisRun)
    func missesCount(kind: StoreKind) async throws {
        var policy = Policy()
        policy.diagnoseLimit = 100
        let h = try await Harness.make(kind, policy: policy)
        let (serial, secret) = try await h.enrolledVirtual("ivan")
        // Codes no step of ±24 h has: found by trying (deterministic for this secret and clock).
        var misses: [String] = []
        var candidate = 0
        while misses.count < 10 {
            let code = String(format: "%06d", candidate)
            candidate += 7_919
            if try await h.service.diagnoseIsMiss(serial: serial, code: code, secret: secret, now: h.clock.now) { misses.append(code) }
        }
        for (i, code) in misses.enumerated() {
            let d = try await h.service.diagnose(serial: serial, code: code, actor: "key:tech")
            #expect(!d.found)
            let device = try #require(try await h.store.device(serial: serial))
            #expect(device.failureCount == (i < 9 ? i + 1 : 10), "after \(i + 1) misses")
            #expect(device.state == (i < 9 ? .active : .locked))
        }
        // Locked: even the right code does not sign in.
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "ivan", code: try h.totp(secret), actor: "t") == .rejected)
        let entries = try await h.service.auditEntries()
        #expect(entries.filter { $0.draft.action == "device.diagnose" && $0.draft.result == "not-found" && $0.draft.actor == "key:tech" }.count == 10)
        #expect(entries.contains { $0.draft.action == "device.lock" && $0.draft.serial == serial })
    }

    @Test("diagnose: ten calls per device per 15 minutes, the eleventh refused and audited; other devices unaffected", arguments: StoreKind.inThisRun)
    func diagnoseRateLimit(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("jane")
        let (other, otherSecret) = try await h.enrolledVirtual("jane")
        for _ in 0..<10 { _ = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: -300), actor: "key:tech") }
        await #expect(throws: MFAError(.rateLimited, "")) { try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: -300), actor: "key:tech") }
        #expect(try await h.service.diagnose(serial: other, code: try h.totp(otherSecret, offset: -300), actor: "key:tech").found)
        let refused = try await h.service.auditEntries().filter { $0.draft.action == "device.diagnose" && $0.draft.result == "rate-limited" }
        #expect(refused.count == 1 && refused[0].draft.actor == "key:tech" && refused[0].draft.serial == serial)
        // The budget comes back after the period.
        h.clock.advance(901)
        #expect(try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: -300), actor: "key:tech").found)
    }

    @Test("unlock: a technician three times per device per day, then rate-limited (audited); an admin always", arguments: StoreKind.inThisRun)
    func technicianUnlocks(kind: StoreKind) async throws {
        var policy = Policy()
        policy.lockoutThreshold = 1
        let h = try await Harness.make(kind, policy: policy)
        let (serial, _) = try await h.enrolledVirtual("kim")
        func fail() async throws { #expect(try await h.service.verify(user: "kim", code: "000000", actor: "t") == .rejected) }
        for _ in 0..<3 {
            try await fail()
            try await h.service.unlock(serial: serial, actor: "key:tech", byTechnician: true)
        }
        try await fail()
        await #expect(throws: MFAError(.rateLimited, "")) { try await h.service.unlock(serial: serial, actor: "key:tech", byTechnician: true) }
        #expect(try #require(try await h.store.device(serial: serial)).state == .locked)
        try await h.service.unlock(serial: serial, actor: "key:admin")
        #expect(try #require(try await h.store.device(serial: serial)).state == .active)
        let unlocks = try await h.service.auditEntries().filter { $0.draft.action == "device.unlock" }
        #expect(unlocks.map(\.draft.result) == ["ok", "ok", "ok", "rate-limited", "ok"])
        #expect(unlocks.map(\.draft.actor) == ["key:tech", "key:tech", "key:tech", "key:tech", "key:admin"])
    }

    @Test("deactivate and unlock are idempotent: nothing to do is success (false), audited unchanged, and uses up no technician unlock", arguments: StoreKind.inThisRun)
    func idempotent(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, _) = try await h.enrolledVirtual("ida")
        for _ in 0..<5 { #expect(try await h.service.unlock(serial: serial, actor: "key:tech", byTechnician: true) == false) }
        // The technician's three real unlocks are all still there.
        for _ in 0..<3 {
            #expect(try await h.service.verify(user: "ida", code: "000000", actor: "t") == .rejected)
            #expect(try await h.service.unlock(serial: serial, actor: "key:tech", byTechnician: true) == true)
        }
        #expect(try await h.service.deactivate(serial: serial, actor: "admin") == true)
        #expect(try await h.service.deactivate(serial: serial, actor: "admin") == false)
        #expect(try #require(try await h.store.device(serial: serial)).state == .deactivated)
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000).map(\.draft)
        #expect(entries.filter { $0.action == "device.unlock" && $0.result == "unchanged" }.count == 5)
        #expect(entries.filter { $0.action == "device.deactivate" }.map(\.result) == ["ok", "unchanged"])
        #expect(try await h.service.verifyAuditChain().ok)
    }
}

extension MFAService {
    /// Whether `code` matches no step of the sync window (computed with the OTP layer directly, not
    /// with the code under test).
    func diagnoseIsMiss(serial: String, code: String, secret: OTPSecret, now: Int64) async throws -> Bool {
        let totp = try TOTP(secret: secret)
        return try totp.verify(try OTPCode(parsing: code, digits: 6), at: now, window: policy.totpSyncWindow) == nil
    }
}
