import Foundation
import MFA
import OTP
import Testing

/// Issue 17: a code that cannot be any device's (wrong length, non-digits) is a slip, not a guess:
/// rejected with the same answer, audited as malformed, never counted toward the lockout.
@Suite("Malformed codes: rejected, audited as malformed, not counted toward the lockout")
struct MalformedCodeTests {
    static let malformed = ["", "12x456", "12345", "123456789", " 123456", "123456 ", "１２３４５６", "1234567", String(repeating: "9", count: 200)]

    @Test("more malformed codes than the threshold lock nothing; a right code still works; wrong codes still count", arguments: StoreKind.inThisRun)
    func notCounted(kind: StoreKind) async throws {
        var policy = Policy()
        policy.lockoutThreshold = 3
        let h = try await Harness.make(kind, policy: policy)
        let (serial, secret) = try await h.enrolledVirtual("mal")
        h.clock.advance(30)
        for code in Self.malformed {
            #expect(try await h.service.verify(user: "mal", code: code, actor: "t") == .rejected, "\(code)")
            #expect(try await h.service.verify(serial: serial, code: code, actor: "t") == .rejected, "\(code)")
        }
        var device = try #require(try await h.store.device(serial: serial))
        #expect(device.failureCount == 0 && device.state == .active, "\(device.failureCount) \(device.state)")
        let details = try await h.service.auditEntries(limit: 10_000).filter { $0.draft.action == "verify" }.map(\.draft.detail)
        #expect(details.count == 2 * Self.malformed.count && details.allSatisfy { $0.hasPrefix("malformed") }, "\(details)")
        // The audit never holds the code itself.
        #expect(!details.contains { $0.contains("12x456") || $0.contains("123456789") })

        #expect(try await h.service.verify(user: "mal", code: try h.totp(secret), actor: "t") == .accepted(serial: serial))
        // A well-formed wrong code is a guess: counted, and three lock the device.
        let right = try h.totp(secret, offset: 30)
        let wrong = String(format: "%06d", (Int(right)! + 500_000) % 1_000_000)
        for _ in 0..<3 { #expect(try await h.service.verify(user: "mal", code: wrong, actor: "t") == .rejected) }
        device = try #require(try await h.store.device(serial: serial))
        #expect(device.state == .locked, "\(device.state) \(device.failureCount)")
    }

    @Test("the form is judged per user: 8 digits for a 6-digit device is malformed, for an 8-digit one a counted guess", arguments: StoreKind.inThisRun)
    func perDevice(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (six, _) = try await h.enrolledVirtual("six")
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "six", code: "12345678", actor: "t") == .rejected)
        #expect(try await h.store.device(serial: six)?.failureCount == 0)
        let last = try #require(try await h.service.auditEntries(limit: 10_000).last)
        #expect(last.draft.detail.hasPrefix("malformed") && last.draft.user == "six", "\(last.draft)")
        // An 8-digit device of another user: the same 8 digits are a guess there, and counted.
        let enrollment = try await h.service.createVirtual(user: "eight", digits: 8, actor: "test")
        let secret = try OTPSecret(base32: enrollment.secretBase32)
        try await h.service.enable(user: "eight", serial: enrollment.serial, code1: try h.totp(secret, offset: -30, digits: 8), code2: try h.totp(secret, digits: 8), actor: "test")
        h.clock.advance(30)
        let right = try h.totp(secret, digits: 8)
        let wrong = String(format: "%08d", (Int(right)! + 50_000_000) % 100_000_000)
        #expect(try await h.service.verify(user: "eight", code: wrong, actor: "t") == .rejected)
        #expect(try await h.store.device(serial: enrollment.serial)?.failureCount == 1)
        #expect(try await h.service.auditEntries(limit: 10_000).last?.draft.detail == "invalid-code")
        // An unknown user: the same answer; the audit says malformed only for what the input shows.
        #expect(try await h.service.verify(user: "nobody", code: "12x", actor: "t") == .rejected)
        #expect(try await h.service.auditEntries(limit: 10_000).last?.draft.detail.hasPrefix("malformed") == true)
        #expect(try await h.service.verify(user: "nobody", code: "123456", actor: "t") == .rejected)
        #expect(try await h.service.auditEntries(limit: 10_000).last?.draft.detail == "unknown-user")
    }
}
