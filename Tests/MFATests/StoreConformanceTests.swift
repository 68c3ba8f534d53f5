import Foundation
@testable import MFA
import MFAStoreSQLite
import OTP
import TestSupport
import Testing

/// One suite, run unchanged against SQLite and PostgreSQL.
@Suite("MFA service and store conformance (SQLite and PostgreSQL)")
struct StoreConformanceTests {
    @Test("virtual enrollment: seed once, enable with two consecutive codes (from oathtool), verify once, replay rejected", arguments: StoreKind.inThisRun)
    func enrollEnableVerify(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let enrollment = try await h.service.createVirtual(user: "alice", issuer: "Example", actor: "test")
        #expect(enrollment.uri.hasPrefix("otpauth://totp/Example:alice?secret=\(enrollment.secretBase32)"))
        let listed = try await h.service.list(user: "alice")
        #expect(listed.count == 1 && listed[0].state == .pending && listed[0].sealedSecret.count > 20)
        #expect(!listed[0].sealedSecret.contains(subsequence: try Base32.decode(enrollment.secretBase32)))
        // Codes from oathtool, for the previous and the current step.
        func oathtool(_ time: Int64) throws -> String {
            try TestTools.run("oathtool", ["--totp", "-b", "-N", "@\(time)", enrollment.secretBase32]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await h.service.enable(user: "alice", serial: enrollment.serial, code1: oathtool(h.clock.now - 30), code2: oathtool(h.clock.now), actor: "test")
        let device = try #require(try await h.store.device(serial: enrollment.serial))
        #expect(device.state == .active && device.enabledAt == h.clock.now && device.driftSteps == 0)
        // The enabling codes are used up.
        #expect(try await h.service.verify(user: "alice", code: oathtool(h.clock.now), actor: "test") == .rejected)
        h.clock.advance(30)
        let code = try oathtool(h.clock.now)
        #expect(try await h.service.verify(user: "alice", code: code, actor: "test") == .accepted(serial: enrollment.serial))
        #expect(try await h.service.verify(user: "alice", code: code, actor: "test") == .rejected)
        let after = try #require(try await h.store.device(serial: enrollment.serial))
        // A replay is rejected like anything else, but it is not a guess: no failure is counted.
        #expect(after.lastUsedAt == h.clock.now && after.failureCount == 0)
        let replays = try await h.service.auditEntries().filter { $0.draft.detail == "replay" }
        #expect(replays.count == 2)
    }

    @Test("verify by serial: only that device, once", arguments: StoreKind.inThisRun)
    func verifyBySerial(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (first, secret) = try await h.enrolledVirtual("pat")
        let (second, _) = try await h.enrolledVirtual("pat")
        h.clock.advance(30)
        let code = try h.totp(secret)
        #expect(try await h.service.verify(serial: second, code: code, actor: "t") == .rejected)
        #expect(try await h.service.verify(serial: first, code: code, actor: "t") == .accepted(serial: first))
        #expect(try await h.service.verify(serial: first, code: code, actor: "t") == .rejected)
        #expect(try await h.service.verify(serial: "NOPE", code: code, actor: "t") == .rejected)
    }

    @Test("Idempotency-Key: a retry gets the first verdict (no second failure, no false replay); the code stays single-use", arguments: StoreKind.inThisRun)
    func idempotency(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("quinn")
        h.clock.advance(30)
        let code = try h.totp(secret)
        #expect(try await h.service.verify(user: "quinn", code: code, idempotencyKey: "req-1", actor: "gw") == .accepted(serial: serial))
        #expect(try await h.service.verify(user: "quinn", code: code, idempotencyKey: "req-1", actor: "gw") == .accepted(serial: serial))
        #expect(try await h.service.verify(user: "quinn", code: code, idempotencyKey: "req-2", actor: "gw") == .rejected)
        await #expect(throws: MFAError(.conflict, "")) {
            try await h.service.verify(user: "quinn", code: "000000", idempotencyKey: "req-1", actor: "gw")
        }
        // A failing verdict is replayed too, without counting a second failure.
        #expect(try await h.service.verify(user: "quinn", code: "999999", idempotencyKey: "req-3", actor: "gw") == .rejected)
        #expect(try await h.service.verify(user: "quinn", code: "999999", idempotencyKey: "req-3", actor: "gw") == .rejected)
        #expect(try await h.store.device(serial: serial)?.failureCount == 1)
        // Keys are per caller, and expire.
        #expect(try await h.service.verify(user: "quinn", code: code, idempotencyKey: "req-1", actor: "other") == .rejected)
        h.clock.advance(301)
        #expect(try await h.service.verify(user: "quinn", code: code, idempotencyKey: "req-1", actor: "gw") == .rejected)
    }

    @Test("enable rejects wrong, non-consecutive and reversed codes", arguments: StoreKind.inThisRun)
    func enableRules(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let e = try await h.service.createVirtual(user: "bob", actor: "test")
        let secret = try OTPSecret(base32: e.secretBase32)
        await #expect(throws: MFAError(.invalidCode, "")) {
            try await h.service.enable(user: "bob", serial: e.serial, code1: "000000", code2: "111111", actor: "test")
        }
        await #expect(throws: MFAError(.notConsecutive, "")) {
            try await h.service.enable(user: "bob", serial: e.serial, code1: try h.totp(secret, offset: -90), code2: try h.totp(secret), actor: "test")
        }
        // Both valid, but in the wrong order: not consecutive.
        await #expect(throws: MFAError(.notConsecutive, "")) {
            try await h.service.enable(user: "bob", serial: e.serial, code1: try h.totp(secret), code2: try h.totp(secret, offset: -30), actor: "test")
        }
        await #expect(throws: MFAError(.conflict, "")) {
            try await h.service.enable(user: "mallory", serial: e.serial, code1: try h.totp(secret, offset: -30), code2: try h.totp(secret), actor: "test")
        }
        #expect(try await h.store.device(serial: e.serial)?.state == .pending)
    }

    @Test("a token whose clock runs 10 minutes ahead: enable learns the drift, sign-in follows it", arguments: StoreKind.inThisRun)
    func driftingToken(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let e = try await h.service.createVirtual(user: "carol", actor: "test")
        let secret = try OTPSecret(base32: e.secretBase32)
        try await h.service.enable(user: "carol", serial: e.serial, code1: try h.totp(secret, offset: 570), code2: try h.totp(secret, offset: 600), actor: "test")
        #expect(try await h.store.device(serial: e.serial)?.driftSteps == 20)
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "carol", code: try h.totp(secret, offset: 600), actor: "test") == .accepted(serial: e.serial))
        // Without drift correction this code would be 20 steps out of the ±1 window.
        let report = try await h.service.credentialReport()
        #expect(report.first { $0.serial == e.serial }?.driftSeconds == 600)
    }

    @Test("an enable received a step after its codes records drift −1; the first on-time sign-in takes it back to 0", arguments: StoreKind.inThisRun)
    func lateEnable(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let e = try await h.service.createVirtual(user: "cleo", actor: "test")
        let secret = try OTPSecret(base32: e.secretBase32)
        // Codes read in one step, received in the next.
        try await h.service.enable(user: "cleo", serial: e.serial, code1: try h.totp(secret, offset: -60), code2: try h.totp(secret, offset: -30), actor: "test")
        #expect(try await h.store.device(serial: e.serial)?.driftSteps == -1)
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "cleo", code: try h.totp(secret), actor: "test") == .accepted(serial: e.serial))
        #expect(try await h.store.device(serial: e.serial)?.driftSteps == 0)
        // A token one step fast is inside the ±1 window again (with the estimate left at −1 it was not).
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "cleo", code: try h.totp(secret, offset: 30), actor: "test") == .accepted(serial: e.serial))
    }

    @Test("drift median: odd counts take the middle, even counts the middle pair's mean rounded toward zero")
    func driftMedian() {
        #expect(SignInRules.median([]) == 0)
        #expect(SignInRules.median([5]) == 5)
        #expect(SignInRules.median([3, -7, 1]) == 1)
        #expect(SignInRules.median([-1, 0]) == 0)
        #expect(SignInRules.median([0, -1, -1, 0]) == 0)
        #expect(SignInRules.median([20, 21]) == 20)
        #expect(SignInRules.median([-21, -20]) == -20)
        #expect(SignInRules.median([-3, 2]) == 0)
        #expect(SignInRules.median([-1, -1]) == -1)
        #expect(SignInRules.median([9, 1, 4, 6]) == 5)
    }

    @Test("resync a device that drifted after enrollment; codes used before cannot resync", arguments: StoreKind.inThisRun)
    func resync(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("dave")
        h.clock.advance(60)
        // The token is now 3 hours fast.
        #expect(try await h.service.verify(user: "dave", code: try h.totp(secret, offset: 10_800), actor: "test") == .rejected)
        try await h.service.resync(user: "dave", serial: serial, code1: try h.totp(secret, offset: 10_770), code2: try h.totp(secret, offset: 10_800), actor: "test")
        #expect(try await h.store.device(serial: serial)?.driftSteps == 360)
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "dave", code: try h.totp(secret, offset: 10_800), actor: "test") == .accepted(serial: serial))
        // Replaying the resync codes is refused (they are at or below the watermark).
        await #expect(throws: MFAError(.invalidCode, "")) {
            try await h.service.resync(user: "dave", serial: serial, code1: try h.totp(secret, offset: 10_740), code2: try h.totp(secret, offset: 10_770), actor: "test")
        }
    }

    @Test("10 consecutive failures lock the device; the lock holds for correct codes; unlock; the delay doubles", arguments: StoreKind.inThisRun)
    func lockout(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("erin")
        h.clock.advance(30)
        let wrong = String(format: "%06d", (Int(try h.totp(secret))! + 1) % 1_000_000)
        for _ in 0..<10 { #expect(try await h.service.verify(user: "erin", code: wrong, actor: "test") == .rejected) }
        var device = try #require(try await h.store.device(serial: serial))
        #expect(device.state == .locked && device.failureCount == 10 && device.lockedUntil == h.clock.now + 60)
        #expect(try await h.service.verify(user: "erin", code: try h.totp(secret), actor: "test") == .rejected)
        try await h.service.unlock(serial: serial, actor: "admin")
        #expect(try await h.service.verify(user: "erin", code: try h.totp(secret), actor: "test") == .accepted(serial: serial))
        // Lock again twice without success in between: 60 s, then 120 s.
        for _ in 0..<10 { _ = try await h.service.verify(user: "erin", code: wrong, actor: "test") }
        h.clock.advance(61)
        for _ in 0..<10 { _ = try await h.service.verify(user: "erin", code: "123456", actor: "test") }
        device = try #require(try await h.store.device(serial: serial))
        #expect(device.state == .locked && device.lockouts == 2 && device.lockedUntil == h.clock.now + 120)
        h.clock.advance(121)
        #expect(try await h.service.verify(user: "erin", code: try h.totp(secret), actor: "test") == .accepted(serial: serial))
        #expect(try await h.store.device(serial: serial)?.state == .active)
    }

    @Test("hardware HOTP: inventory, assignment on enable, look-ahead, counter advance, replay", arguments: StoreKind.inThisRun)
    func hardwareHOTP(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let secret = try OTPSecret(bytes: Array("12345678901234567890".utf8))
        try await h.service.register(serial: "FT-0001", kind: .hardwareHOTP, secret: secret, counter: 0, actor: "admin")
        #expect(try await h.service.inventory(.unassigned).map(\.serial) == ["FT-0001"])
        #expect(try await h.service.inventory(.assigned).isEmpty)
        // RFC 4226 codes: 755224 (0), 287082 (1), 359152 (2), 969429 (3), 338314 (4), 254676 (5).
        try await h.service.enable(user: "frank", serial: "FT-0001", code1: "755224", code2: "287082", actor: "admin")
        #expect(try await h.service.inventory(.assigned).map(\.serial) == ["FT-0001"])
        #expect(try await h.service.verify(user: "frank", code: "287082", actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "frank", code: "969429", actor: "t") == .accepted(serial: "FT-0001"))
        #expect(try await h.service.verify(user: "frank", code: "359152", actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "frank", code: "338314", actor: "t") == .accepted(serial: "FT-0001"))
        #expect(try await h.store.device(serial: "FT-0001")?.counter == 5)
    }

    @Test("diagnose changes no device for codes it finds and tells where a code falls", arguments: StoreKind.inThisRun)
    func diagnose(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("gina")
        let before = try #require(try await h.store.device(serial: serial))
        let ahead = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: 3_000), actor: "tech")
        #expect(ahead.found && ahead.aheadOfSignInWindow && ahead.offset == nil && !ahead.withinSignInWindow)
        let behind = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: -3_000), actor: "tech")
        #expect(behind.found && behind.offset == -100 && behind.offsetSeconds == -3_000 && !behind.withinSignInWindow)
        let used = try await h.service.diagnose(serial: serial, code: try h.totp(secret), actor: "tech")
        #expect(used.found && used.alreadyUsed && !used.withinSignInWindow)
        let next = try await h.service.diagnose(serial: serial, code: try h.totp(secret, offset: 30), actor: "tech")
        #expect(next.found && next.offset == 1 && next.withinSignInWindow)
        let after = try #require(try await h.store.device(serial: serial))
        #expect(after == before)
    }

    @Test("deactivate, delete (virtual must be deactivated first), limits, duplicates", arguments: StoreKind.inThisRun)
    func lifecycle(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, _) = try await h.enrolledVirtual("hank")
        await #expect(throws: MFAError(.conflict, "")) { try await h.service.delete(serial: serial, actor: "admin") }
        try await h.service.deactivate(serial: serial, actor: "admin")
        try await h.service.delete(serial: serial, actor: "admin")
        #expect(try await h.store.device(serial: serial) == nil)
        for _ in 0..<8 { _ = try await h.service.createVirtual(user: "ivy", actor: "admin") }
        await #expect(throws: MFAError(.limitExceeded, "")) { try await h.service.createVirtual(user: "ivy", actor: "admin") }
        let secret = try OTPSecret(bytes: Array("12345678901234567890".utf8))
        try await h.service.register(serial: "T2-1", kind: .hardwareTOTP, secret: secret, actor: "admin")
        await #expect(throws: MFAError(.alreadyExists, "")) {
            try await h.service.register(serial: "T2-1", kind: .hardwareTOTP, secret: secret, actor: "admin")
        }
        await #expect(throws: MFAError(.noSuchDevice, "")) { try await h.service.deactivate(serial: "nope", actor: "admin") }
    }

    @Test("bad input is a typed error and writes nothing", arguments: StoreKind.inThisRun)
    func badInput(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let good = try OTPSecret(bytes: Array("12345678901234567890".utf8))
        let auditBefore = try await h.store.auditEntries(after: 0, limit: 100).count
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createVirtual(user: "bad\u{7}name", actor: "t") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createVirtual(user: "", actor: "t") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createVirtual(user: "ivan", issuer: "a:b", actor: "t") }
        #expect(try await h.service.list(user: "ivan").isEmpty)
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: "X1", kind: .hardwareTOTP, secret: good, digits: 9, actor: "t")
        }
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: "X2", kind: .hardwareTOTP, secret: try OTPSecret(bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9]), actor: "t")
        }
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: "X3", kind: .hardwareTOTP, secret: try OTPSecret(bytes: [UInt8](repeating: 0, count: 20)), actor: "t")
        }
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: "bad serial!", kind: .hardwareTOTP, secret: good, actor: "t")
        }
        #expect(throws: OTPError(.invalidAlgorithm, "")) { try HashAlgorithm(parsing: "md5") }
        #expect(try await h.service.inventory(.any).isEmpty)
        // Nothing stored but the refusals' audit entries (one per refused call).
        let added = try await h.store.auditEntries(after: Int64(auditBefore), limit: 100).map(\.draft)
        #expect(added.count == 7 && added.allSatisfy { $0.result == "refused" && $0.detail.hasPrefix("invalid-input: ") }, "\(added)")
        // Malformed codes and unknown users are ordinary rejections.
        #expect(try await h.service.verify(user: "nobody", code: "123456", actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "nobody", code: "12ab", actor: "t") == .rejected)
    }

    @Test("credential report: one row per user and device, CSV and JSON, no secrets", arguments: StoreKind.inThisRun)
    func report(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("jack")
        _ = try await h.service.createVirtual(user: "kate", actor: "admin")
        let rows = try await h.service.credentialReport()
        #expect(rows.count == 2)
        let jack = try #require(rows.first { $0.user == "jack" })
        #expect(jack.mfaActive && jack.serial == serial && jack.state == "active" && !jack.locked)
        #expect(rows.first { $0.user == "kate" }?.mfaActive == false)
        let csv = ([CredentialReportRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n")
        #expect(csv.hasPrefix("user,mfa_active,serial,kind,state,enabled_at,last_used_at,drift_seconds,failure_count,locked\n"))
        #expect(!csv.contains(secret.base32EncodedString()))
        let json = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        #expect(json.contains("\"mfaActive\":true") && !json.contains(secret.base32EncodedString()))
        #expect(CredentialReportRow.csv("=cmd()") == "'=cmd()")
    }

    @Test("audit: every change is chained; edits, deletions, reordering and truncation are detected", arguments: StoreKind.inThisRun)
    func auditChain(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (_, secret) = try await h.enrolledVirtual("liam")
        h.clock.advance(30)
        _ = try await h.service.verify(user: "liam", code: try h.totp(secret), actor: "t")
        _ = try await h.service.verify(user: "liam", code: "000000", actor: "t")
        let entries = try await h.service.auditEntries()
        #expect(entries.map(\.draft.action) == ["device.create", "device.enable", "verify", "verify"])
        #expect(entries.map(\.draft.result) == ["ok", "ok", "accepted", "rejected"])
        #expect(!entries.contains { $0.draft.detail.contains(try! h.totp(secret)) })
        #expect(try await h.service.verifyAuditChain().ok)

        try await h.raw("UPDATE audit SET result = 'accepted' WHERE seq = 4")
        var check = try await h.service.verifyAuditChain()
        #expect(!check.ok && check.brokenAt == 4 && check.reason?.contains("altered") == true)
        try await h.raw("UPDATE audit SET result = 'rejected' WHERE seq = 4")
        #expect(try await h.service.verifyAuditChain().ok)

        try await h.raw("UPDATE audit SET seq = 100 WHERE seq = 2")
        try await h.raw("UPDATE audit SET seq = 2 WHERE seq = 3")
        try await h.raw("UPDATE audit SET seq = 3 WHERE seq = 100")
        check = try await h.service.verifyAuditChain()
        #expect(!check.ok && check.brokenAt == 2)
        try await h.raw("UPDATE audit SET seq = 100 WHERE seq = 2")
        try await h.raw("UPDATE audit SET seq = 2 WHERE seq = 3")
        try await h.raw("UPDATE audit SET seq = 3 WHERE seq = 100")
        #expect(try await h.service.verifyAuditChain().ok)

        // Page by page (one entry, three entries a page): the same verdicts, entries counted whole.
        for pageSize in [1, 3] {
            let newest = try await h.store.auditEntries(after: 3, limit: 1).first
            #expect(try await h.service.verifyAuditChain(pageSize: pageSize)
                == AuditVerification(entries: 4, ok: true, brokenAt: nil, reason: nil, headSequence: 4, headHash: newest?.hash))
        }
        try await h.raw("UPDATE audit SET actor = 'x' WHERE seq = 3")
        for pageSize in [1, 3, 10_000] {
            let paged = try await h.service.verifyAuditChain(pageSize: pageSize)
            #expect(!paged.ok && paged.brokenAt == 3 && paged.entries == 4 && paged.reason?.contains("altered") == true, "\(pageSize): \(paged)")
        }
        try await h.raw("UPDATE audit SET actor = 't' WHERE seq = 3")
        #expect(try await h.service.verifyAuditChain(pageSize: 3).ok)

        try await h.raw("DELETE FROM audit WHERE seq = 4")
        check = try await h.service.verifyAuditChain()
        #expect(!check.ok && check.reason?.contains("truncated") == true)
        try await h.raw("DELETE FROM audit WHERE seq = 2")
        check = try await h.service.verifyAuditChain()
        #expect(!check.ok && check.brokenAt == 3)
    }

    @Test("audit hashes follow the documented layout (recomputed by Python's hashlib), users and serials absent or present")
    func auditHashLayout() async throws {
        let h = try await Harness.make(.sqlite)
        let (_, secret) = try await h.enrolledVirtual("zoë")
        h.clock.advance(30)
        _ = try await h.service.verify(user: "zoë", code: h.totp(secret), actor: "key:k1")
        _ = try await h.service.verify(user: "nobody", code: "123456", actor: "key:k1")
        _ = try await h.service.createAPIKey(name: "n", scopes: [.verifier], actor: "cli")
        let entries = try await h.service.auditEntries()
        #expect(entries.count >= 5 && entries.contains { $0.draft.user == nil } && entries.contains { $0.draft.serial == nil })
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        // One line per entry: seq, time, the six fields as hex of their UTF-8 ("-" when absent), the
        // stored previous hash and hash.
        let lines = entries.map { e in
            let d = e.draft
            let fields = [d.actor, d.action, d.user, d.serial, d.result, d.detail].map { $0.map { hex(Array($0.utf8)) } ?? "-" }
            return ([String(e.sequence), String(d.time)] + fields.map { $0.isEmpty ? "=" : $0 } + [hex(e.previousHash), hex(e.hash)]).joined(separator: " ")
        }
        let script = """
            import hashlib, struct, sys
            previous = bytes(32)
            for line in sys.stdin.read().split("\\n"):
                seq, time, *fields, prev, stored = line.split(" ")
                assert bytes.fromhex(prev) == previous, "link"
                message = previous + struct.pack(">q", int(seq)) + struct.pack(">q", int(time))
                for f in fields:
                    value = b"\\0" if f == "-" else b"" if f == "=" else bytes.fromhex(f)
                    message += struct.pack(">q", len(value)) + value
                previous = hashlib.sha256(message).digest()
                assert previous.hex() == stored, "hash of entry " + seq
            print("ok")
            """
        let result = try await TestTools.run("python3", ["-c", script], input: lines.joined(separator: "\n"))
        #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
    }

    @Test("sign-in follows the stored sealed secret: a replaced seed takes over at once, a tampered one fails (opened keys are remembered per sealed bytes)", arguments: StoreKind.inThisRun)
    func sealedSecretChanges(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("noah")
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "noah", code: h.totp(secret), actor: "test") == .accepted(serial: serial))

        // Another seed sealed for the same serial, written behind the service's back.
        let replacement = OTPSecret.random(byteCount: 20)
        let sealed = try h.vault.seal(replacement, serial: serial)
        func blob(_ bytes: [UInt8]) -> String {
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            return kind == .sqlite ? "X'\(hex)'" : "'\\x\(hex)'::bytea"
        }
        try await h.raw("UPDATE devices SET sealed_secret = \(blob(sealed)) WHERE serial = '\(serial)'")
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "noah", code: h.totp(secret), actor: "test") == .rejected)
        #expect(try await h.service.verify(user: "noah", code: h.totp(replacement), actor: "test") == .accepted(serial: serial))

        // One flipped bit of the tag: the vault refuses it, however recently the device signed in.
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        try await h.raw("UPDATE devices SET sealed_secret = \(blob(tampered)) WHERE serial = '\(serial)'")
        h.clock.advance(30)
        await #expect(throws: MFAError(.vault, "")) { try await h.service.verify(user: "noah", code: h.totp(replacement), actor: "test") }
    }

    @Test("API keys: token shown once, stored hashed, scopes, revocation", arguments: StoreKind.inThisRun)
    func apiKeys(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (record, token) = try await h.service.createAPIKey(name: "sign-in gateway", scopes: [.verifier], actor: "admin")
        #expect(token.hasPrefix("mfa_\(record.id)_"))
        let stored = try #require(try await h.store.apiKey(id: record.id))
        #expect(stored.secretHash.count == 32 && !stored.secretHash.contains(subsequence: Array(token.utf8.suffix(16))))
        let found = try #require(try await h.service.authenticate(token: token))
        #expect(found.allows(.verifier) && !found.allows(.admin) && !found.allows(.technician))
        let tampered = String(token.dropLast()) + (token.hasSuffix("a") ? "b" : "a")
        #expect(try await h.service.authenticate(token: tampered) == nil)
        #expect(try await h.service.authenticate(token: "Bearer nonsense") == nil)
        let (admin, _) = try await h.service.createAPIKey(name: "root", scopes: [.admin], actor: "cli")
        #expect(admin.allows(.technician) && admin.allows(.verifier))
        #expect(Set(try await h.service.apiKeys().map(\.name)) == ["sign-in gateway", "root"])
        try await h.service.revokeAPIKey(id: record.id, actor: "admin")
        #expect(try await h.service.authenticate(token: token) == nil)
        #expect(try await h.service.revokeAPIKey(id: record.id, actor: "admin") == false, "already revoked: nothing changes")
        await #expect(throws: MFAError(.noSuchKey, "")) { try await h.service.revokeAPIKey(id: "0123456789ab", actor: "admin") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createAPIKey(name: "x", scopes: [], actor: "admin") }
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("a store that cannot be reached is a typed error with the cause")
    func unavailable() async throws {
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        #expect(throws: MFAError(.storeUnavailable, "")) {
            _ = try SQLiteMFAStore(path: "/proc/definitely/not/here.sqlite", chain: AuditChain(vault: vault))
        }
        let store = try PostgresMFAStoreFactory.unreachable(chain: AuditChain(vault: vault))
        await #expect(throws: MFAError(.storeUnavailable, "")) { try await store.migrate() }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
