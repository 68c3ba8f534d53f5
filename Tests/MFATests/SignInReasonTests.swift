import Foundation
import MFA
import OTP
import Testing

/// Issue 17: the audit tells an unknown user, a locked, a deactivated and a pending device apart,
/// while the caller gets the same rejection for all of them.
@Suite("Sign-in reasons: the audit names why no device could take the code")
struct SignInReasonTests {
    func lastVerify(_ h: Harness) async throws -> AuditDraft {
        try #require(try await h.service.auditEntries(limit: 10_000).last { $0.draft.action == "verify" }).draft
    }

    @Test("unknown user, pending, locked (with its end), deactivated: one answer, four details", arguments: StoreKind.inThisRun)
    func reasons(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        #expect(try await h.service.verify(user: "ghost", code: "123456", actor: "t") == .rejected)
        #expect(try await lastVerify(h).detail == "unknown-user")

        _ = try await h.service.createVirtual(user: "penny", actor: "test")
        #expect(try await h.service.verify(user: "penny", code: "123456", actor: "t") == .rejected)
        #expect(try await lastVerify(h).detail == "no-usable-device: 1 pending")

        let (serial, secret) = try await h.enrolledVirtual("lock")
        for _ in 0..<10 { #expect(try await h.service.verify(user: "lock", code: "000000", actor: "t") == .rejected) }
        let locked = try #require(try await h.store.device(serial: serial))
        let until = try #require(locked.lockedUntil)
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "lock", code: try h.totp(secret), actor: "t") == .rejected)
        let expected = Date(timeIntervalSince1970: TimeInterval(until)).formatted(.iso8601)
        let lockedDetail = try await lastVerify(h).detail
        #expect(lockedDetail == "no-usable-device: 1 locked until \(expected)", "\(lockedDetail)")

        _ = try await h.service.createVirtual(user: "lock", actor: "test")
        _ = try await h.service.deactivate(serial: serial, actor: "test")
        #expect(try await h.service.verify(user: "lock", code: try h.totp(secret), actor: "t") == .rejected)
        #expect(try await lastVerify(h).detail == "no-usable-device: 1 deactivated, 1 pending")
        // The details never hold the code.
        let details = try await h.service.auditEntries(limit: 10_000).map(\.draft.detail)
        #expect(!details.contains { $0.contains("000000") || $0.contains("123456") })
    }
}
