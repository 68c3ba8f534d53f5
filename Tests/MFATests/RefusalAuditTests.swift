import Foundation
import MFA
import OTP
import Testing

/// Issue 17: failed admin actions are audited too (who tried what, and why it was refused), with no
/// code or secret in the entry and only well-formed identities in its user and serial columns.
@Suite("Refused admin actions are audited")
struct RefusalAuditTests {
    func last(_ h: Harness) async throws -> AuditDraft {
        try #require(try await h.service.auditEntries(AuditQuery(order: .newestFirst, limit: 1)).first).draft
    }

    @Test("limit, wrong codes, conflicts, unknown devices, duplicate key names, bad names: each one refused entry", arguments: StoreKind.inThisRun)
    func refusals(kind: StoreKind) async throws {
        var policy = Policy()
        policy.maximumDevicesPerUser = 1
        let h = try await Harness.make(kind, policy: policy)
        let (serial, secret) = try await h.enrolledVirtual("ada")

        await #expect(throws: MFAError.self) { try await h.service.createVirtual(user: "ada", actor: "key:a1") }
        var d = try await last(h)
        #expect(d.action == "device.create" && d.result == "refused" && d.actor == "key:a1" && d.user == "ada" && d.detail.hasPrefix("limit-exceeded: "), "\(d)")

        let pending = try await h.service.createVirtual(user: "bea", actor: "test")
        await #expect(throws: MFAError.self) { try await h.service.enable(user: "bea", serial: pending.serial, code1: "111111", code2: "222222", actor: "key:a1") }
        d = try await last(h)
        #expect(d.action == "device.enable" && d.result == "refused" && d.user == "bea" && d.serial == pending.serial && d.detail.hasPrefix("invalid-code: "), "\(d)")
        #expect(!d.detail.contains("111111") && !d.detail.contains("222222"))

        h.clock.advance(300)
        let stale = try h.totp(secret, offset: -300)
        await #expect(throws: MFAError.self) { try await h.service.resync(user: "ada", serial: serial, code1: stale, code2: "000000", actor: "key:t1") }
        d = try await last(h)
        #expect(d.action == "device.resync" && d.result == "refused" && d.serial == serial && !d.detail.contains(stale), "\(d)")

        await #expect(throws: MFAError.self) { try await h.service.delete(serial: serial, actor: "key:a1") }
        d = try await last(h)
        #expect(d.action == "device.delete" && d.result == "refused" && d.serial == serial && d.detail.hasPrefix("conflict: "), "\(d)")

        await #expect(throws: MFAError.self) { try await h.service.deactivate(serial: "VNOSUCH", actor: "key:a1") }
        d = try await last(h)
        #expect(d.action == "device.deactivate" && d.serial == "VNOSUCH" && d.detail.hasPrefix("no-such-device: "), "\(d)")

        _ = try await h.service.createAPIKey(name: "ops", scopes: [.verifier], actor: "key:a1")
        await #expect(throws: MFAError.self) { try await h.service.createAPIKey(name: "ops", scopes: [.verifier], actor: "key:a1") }
        d = try await last(h)
        #expect(d.action == "apikey.create" && d.result == "refused" && d.detail.hasPrefix("already-exists: "), "\(d)")

        // A name that breaks the naming rule is refused and audited without it.
        await #expect(throws: MFAError.self) { try await h.service.createVirtual(user: "bad\u{7}name", actor: "key:a1") }
        d = try await last(h)
        #expect(d.action == "device.create" && d.result == "refused" && d.user == nil && d.detail.hasPrefix("invalid-input: "), "\(d)")

        let refused = try await h.service.auditEntries(AuditQuery(limit: 1_000)).filter { $0.draft.result == "refused" }
        #expect(refused.count == 7, "\(refused.map(\.draft))")
        #expect(try await h.service.verifyAuditChain().ok)
    }
}
