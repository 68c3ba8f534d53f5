import MFA
import OTP
import Testing

/// The sign-in decision without a store or a vault: devices and keys made here, codes from RFC 4226's
/// and RFC 6238's published vectors (seed "12345678901234567890", SHA-1).
@Suite("Sign-in rules (pure, no store)")
struct SignInRulesTests {
    static let seed = Array("12345678901234567890".utf8)
    static let key = OTPKey(secret: try! OTPSecret(bytes: seed), algorithm: .sha1)
    let rules = SignInRules(policy: Policy(), decoy: Decoy())

    static func device(_ serial: String, kind: DeviceKind = .hardwareTOTP, digits: Int = 8, state: DeviceState = .active) -> DeviceRecord {
        DeviceRecord(serial: serial, kind: kind, owner: "ada", state: state, algorithm: .sha1, digits: digits, period: kind.isCounterBased ? 0 : 30,
                     counter: 0, sealedSecret: [], createdAt: 0)
    }

    /// `code` decided against `devices` at `now`, and how many devices were checked.
    func decide(_ devices: [DeviceRecord], _ code: String, now: Int64) throws -> (SignInDecision, checked: [String]) {
        var checked: [String] = []
        let decision = try rules.decide(devices, user: "ada", code: code, now: now, actor: "t") { device throws(MFAError) in
            checked.append(device.serial)
            return try rules.windowCheck(device, key: Self.key, code: code, now: now)
        }
        return (decision, checked)
    }

    @Test("RFC 6238 at T=59: accepted at step 1, on time; the drift history records 0")
    func acceptTOTP() throws {
        let (decision, checked) = try decide([Self.device("T1")], "94287082", now: 59)
        guard case .accept(let acceptance, let audit) = decision else { Issue.record("not accepted: \(decision)"); return }
        #expect(acceptance == Acceptance(serial: "T1", step: 1, now: 59, counter: 0, driftSteps: 0, driftHistory: [0]))
        #expect(audit.result == "accepted" && audit.serial == "T1" && audit.detail == "offset 0" && audit.user == "ada")
        #expect(checked == ["T1"])
    }

    @Test("a code one step late moves the drift estimate to the history's median, the history keeps the newest 16")
    func drift() throws {
        var device = Self.device("T1")
        device.driftHistory = Array(repeating: 0, count: 8) + Array(repeating: -1, count: 8)
        // T=59's code (step 1) typed at T=89 (step 2): observed offset −1.
        let (decision, _) = try decide([device], "94287082", now: 89)
        guard case .accept(let acceptance, _) = decision else { Issue.record("not accepted: \(decision)"); return }
        #expect(acceptance.driftHistory == Array(repeating: 0, count: 7) + Array(repeating: -1, count: 9))
        #expect(acceptance.driftSteps == -1)
    }

    @Test("a used code is a replay: rejected, counted on no device, and named in the audit")
    func replay() throws {
        var device = Self.device("T1")
        device.watermark = 1
        let (decision, _) = try decide([device], "94287082", now: 59)
        #expect(decision == .fail(serials: [Decoy.serial], policy: Policy(), now: 59,
                                  audit: AuditDraft(time: 59, actor: "t", action: "verify", user: "ada", serial: "T1", result: "rejected", detail: "replay")))
    }

    @Test("a wrong code counts a failure on every usable device, each checked; a lock in force excludes a device, a lock run out does not")
    func wrongCode() throws {
        var locked = Self.device("L1", state: .locked)
        locked.lockedUntil = 100
        var lapsed = Self.device("L2", state: .locked)
        lapsed.lockedUntil = 50
        let devices = [Self.device("T1"), Self.device("T2"), locked, lapsed, Self.device("P1", state: .pending)]
        let (decision, checked) = try decide(devices, "12345678", now: 59)
        #expect(checked == ["T1", "T2", "L2"])
        guard case .fail(let serials, _, _, let audit) = decision else { Issue.record("not a failure: \(decision)"); return }
        #expect(serials == ["T1", "T2", "L2"] && audit.detail == "invalid-code" && audit.serial == nil)
    }

    @Test("every usable device is checked after one matched; the first match wins")
    func allChecked() throws {
        let (decision, checked) = try decide([Self.device("T1"), Self.device("T2"), Self.device("T3")], "94287082", now: 59)
        #expect(checked == ["T1", "T2", "T3"])
        guard case .accept(let acceptance, _) = decision else { Issue.record("not accepted: \(decision)"); return }
        #expect(acceptance.serial == "T1")
    }

    @Test("no usable device: the decoy's failure, nothing of the user's checked, the audit says why")
    func noUsableDevice() throws {
        let (decision, checked) = try decide([Self.device("P1", state: .pending)], "94287082", now: 59)
        #expect(checked.isEmpty)
        guard case .fail(let serials, _, _, let audit) = decision else { Issue.record("not a failure: \(decision)"); return }
        #expect(serials == [Decoy.serial] && audit.detail == "no-usable-device: 1 pending")
        let (unknown, _) = try decide([], "94287082", now: 59)
        guard case .fail(_, _, _, let unknownAudit) = unknown else { Issue.record("not a failure: \(unknown)"); return }
        #expect(unknownAudit.detail == "unknown-user")
    }

    @Test("a code of a form no device takes (6 digits for 8-digit devices) is a slip: the decoy's failure, not the devices'")
    func formMismatch() throws {
        let (decision, checked) = try decide([Self.device("T1")], "287082", now: 59)
        #expect(checked == ["T1"])
        guard case .fail(let serials, _, _, let audit) = decision else { Issue.record("not a failure: \(decision)"); return }
        #expect(serials == [Decoy.serial] && audit.detail.hasPrefix("malformed:"))
    }

    @Test("RFC 4226 counter 2 within the look-ahead: accepted, the next expected counter is 3; counter 0's code after it is a replay")
    func acceptHOTP() throws {
        var device = Self.device("H1", kind: .hardwareHOTP, digits: 6)
        let (decision, _) = try decide([device], "359152", now: 1_000)
        guard case .accept(let acceptance, _) = decision else { Issue.record("not accepted: \(decision)"); return }
        #expect(acceptance.step == 2 && acceptance.counter == 3 && acceptance.driftHistory.isEmpty)
        device.accept(acceptance)
        let (again, _) = try decide([device], "755224", now: 1_001)
        guard case .fail(_, _, _, let audit) = again else { Issue.record("not a failure: \(again)"); return }
        #expect(audit.detail == "replay")
    }

    @Test("drift median: odd counts take the middle, even counts the middle pair's mean rounded toward zero")
    func driftMedian() {
        #expect(SignInRules.median([]) == 0)
        #expect(SignInRules.median([3, -7, 1]) == 1)
        #expect(SignInRules.median([-21, -20]) == -20)
        #expect(SignInRules.median([9, 1, 4, 6]) == 5)
    }

    @Test("Idempotency-Key: a live entry is the same request's answer, still running, or a conflict; verdicts round-trip")
    func idempotency() {
        let hash: [UInt8] = [1, 2, 3]
        #expect(IdempotencyClaim(existingHash: hash, response: "rejected", requestHash: hash) == .completed("rejected"))
        #expect(IdempotencyClaim(existingHash: hash, response: nil, requestHash: hash) == .pending)
        #expect(IdempotencyClaim(existingHash: [9], response: "rejected", requestHash: hash) == .conflict)
        #expect(IdempotentVerdict.result(IdempotentVerdict.stored(.accepted(serial: "accepted:x"))) == .accepted(serial: "accepted:x"))
        #expect(IdempotentVerdict.result(IdempotentVerdict.stored(.rejected)) == .rejected)
    }
}
