import Foundation
import MFA
import OTP
import Testing

/// Issue 17: `audit list` filters. Both stores select the same entries, newest or oldest first,
/// matching names and serials as bytes (NFC and NFD spellings of one name are two users).
@Suite("Audit queries: order, bounds, filters by user, serial, action family and time")
struct AuditQueryTests {
    static let nfc = "jos\u{E9}"
    static let nfd = "jose\u{301}"
    static let upper = "JOS\u{C9}"

    @Test("each filter, alone and combined, in both orders, on both stores", arguments: StoreKind.inThisRun)
    func filters(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, _) = try await h.enrolledVirtual(Self.nfc)
        h.clock.advance(100)
        let start = h.clock.now
        _ = try await h.service.createVirtual(user: Self.upper, actor: "test")
        #expect(try await h.service.verify(user: Self.nfc, code: "000000", actor: "t") == .rejected)
        _ = try await h.service.deactivate(serial: serial, actor: "test")
        let all = try await h.service.auditEntries(AuditQuery(limit: 1_000))
        #expect(all.map(\.sequence) == Array(1...Int64(all.count)))
        #expect(try await h.service.auditEntries(AuditQuery(order: .newestFirst, limit: 1_000)).map(\.sequence) == all.map(\.sequence).reversed())
        #expect(try await h.service.auditEntries(AuditQuery(order: .newestFirst, limit: 2)).map(\.sequence) == [all.count, all.count - 1].map(Int64.init))

        // By user: exact bytes, so the NFD spelling (String == calls it equal) finds nothing, and case counts.
        let nfcEntries = try await h.service.auditEntries(AuditQuery(user: Self.nfc, limit: 1_000))
        #expect(!nfcEntries.isEmpty && nfcEntries.allSatisfy { $0.draft.user == Self.nfc && Array($0.draft.user!.utf8) == Array(Self.nfc.utf8) })
        #expect(nfcEntries.count == all.filter { $0.draft.user.map { Array($0.utf8) } == Array(Self.nfc.utf8) }.count)
        #expect(Self.nfd == Self.nfc)
        #expect(try await h.service.auditEntries(AuditQuery(user: Self.nfd, limit: 1_000)).isEmpty)
        let upperEntries = try await h.service.auditEntries(AuditQuery(user: Self.upper, limit: 1_000))
        #expect(upperEntries.map(\.draft.action) == ["device.create"], "\(upperEntries.map(\.draft))")

        // By serial, and by action family: "device" is device.*, never "devices…" or "verify".
        let bySerial = try await h.service.auditEntries(AuditQuery(serial: serial, limit: 1_000))
        #expect(bySerial.map(\.draft.action) == ["device.create", "device.enable", "device.deactivate"], "\(bySerial.map(\.draft.action))")
        let family = try await h.service.auditEntries(AuditQuery(action: "device", limit: 1_000)).map(\.draft.action)
        #expect(family == ["device.create", "device.enable", "device.create", "device.deactivate"], "\(family)")
        #expect(try await h.service.auditEntries(AuditQuery(action: "dev", limit: 1_000)).isEmpty)
        #expect(try await h.service.auditEntries(AuditQuery(action: "verify", limit: 1_000)).map(\.draft.detail) == ["invalid-code"])

        // By time and sequence bounds, combined with a filter.
        let since = try await h.service.auditEntries(AuditQuery(since: start, limit: 1_000))
        #expect(since.map(\.draft.action) == ["device.create", "verify", "device.deactivate"], "\(since.map(\.draft.action))")
        let window = try await h.service.auditEntries(AuditQuery(after: 1, before: Int64(all.count), action: "device", order: .newestFirst, limit: 1_000))
        #expect(window.map(\.sequence) == all.filter { $0.sequence > 1 && $0.sequence < Int64(all.count) && $0.draft.action.hasPrefix("device.") }.map(\.sequence).reversed())
        #expect(try await h.service.auditEntries(AuditQuery(user: "nobody", limit: 1_000)).isEmpty)

        await #expect(throws: MFAError.self) { try await h.service.auditEntries(AuditQuery(limit: 0)) }
    }

    @Test("--since reads ISO 8601 times, dates, Unix seconds and lengths of time back")
    func sinceText() {
        #expect(SecondsText.parseSince("2026-12-03T18:30:00Z", now: 0) == 1_796_322_600)
        #expect(SecondsText.parseSince("2026-12-03T19:30:00+01:00", now: 0) == 1_796_322_600)
        #expect(SecondsText.parseSince("2026-12-03", now: 0) == 1_796_256_000)
        #expect(SecondsText.parseSince("1796322600", now: 0) == 1_796_322_600)
        #expect(SecondsText.parseSince("24h", now: 100_000) == 13_600)
        #expect(SecondsText.parseSince("yesterday", now: 0) == nil)
        #expect(SecondsText.parseSince("2026-13-03", now: 0) == nil)
    }
}
