import OTP

/// The sign-in decision as a value: which of a user's devices may answer, each device's window
/// check with and without its replay watermark, what an acceptance moves (the HOTP counter, the TOTP
/// drift history and its median), and which rejection counts a failure on which devices.
///
/// No store and no vault: the caller hands over the candidates and, per device, the check of the
/// code against it (``windowCheck(_:key:code:now:)`` with the opened key, or a Yubico OTP's
/// decryption), so the rules are tested with devices and keys made in the test. ``MFAService`` keeps
/// the orchestration: reading and committing through the store, auditing, locks.
public struct SignInRules: Sendable {
    public var policy: Policy
    /// Checked when the user has no usable device, so that case costs one device's work.
    let decoy: Decoy

    public init(policy: Policy, decoy: Decoy) {
        self.policy = policy
        self.decoy = decoy
    }

    /// Where a code fell on a device: the accepted counter or TOTP step, and the audit's detail.
    public struct CodeMatch: Sendable, Hashable {
        public var step: Int64
        public var detail: String
        public init(step: Int64, detail: String) {
            self.step = step
            self.detail = detail
        }
    }

    /// A code against one device, judged twice: honouring the replay watermark (may sign in) and
    /// ignoring it (was right once: a replay, not a guess).
    public struct CodeCheck: Sendable, Hashable {
        public var match: CodeMatch?
        public var ignoringWatermark: CodeMatch?
        public init(match: CodeMatch?, ignoringWatermark: CodeMatch?) {
            self.match = match
            self.ignoringWatermark = ignoringWatermark
        }
    }

    /// Active, or locked with the lock run out.
    public func usable(_ device: DeviceRecord, now: Int64) -> Bool {
        device.state == .active || (device.state == .locked && (device.lockedUntil ?? Int64.max) <= now)
    }

    /// The decision for `code` against `candidates` (all of the user's devices; the rules pick the
    /// usable ones). `check` judges the code against one device; every usable device is checked,
    /// whatever the others gave, so the work says nothing about which one matched.
    public func decide(_ candidates: [DeviceRecord], user: String, code: String, now: Int64, actor: String,
                       check: (DeviceRecord) throws(MFAError) -> CodeCheck) throws(MFAError) -> SignInDecision {
        let devices = candidates.filter { usable($0, now: now) }
        var winner: (device: DeviceRecord, match: CodeMatch)?
        var replayOf: String?
        for device in devices {
            let result = try check(device)
            if winner == nil, let match = result.match { winner = (device, match) }
            if replayOf == nil, result.match == nil, result.ignoringWatermark != nil { replayOf = device.serial }
        }
        // A user without a usable device (unknown, locked, pending only) costs what a wrong code for
        // one device costs: the same HMAC work on a decoy, and the same failure statement, on a
        // serial no device has (so nothing is counted).
        if devices.isEmpty { _ = try windowCheck(decoy.device, key: decoy.key, code: code, now: now) }
        func rejected(_ serials: [String], serial: String? = nil, _ detail: String) -> SignInDecision {
            .fail(serials: serials, policy: policy, now: now,
                  audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, serial: serial, result: "rejected", detail: detail))
        }
        if winner == nil, !devices.isEmpty, !devices.contains(where: { SignInCode(code)?.fits($0) ?? false }) {
            // Well formed, but no device of this user takes codes of this form (7 digits for 6-digit
            // devices, a Yubico OTP for TOTP ones): a slip, not a guess. The same work was done;
            // nothing is counted.
            return rejected([Decoy.serial], "malformed: the form of the code fits none of the user's devices")
        }
        if winner == nil, let serial = replayOf {
            // A code that was right but is used up: not a guess, so no failure is counted (a replayed
            // or duplicated code must not lock the user out); the same answer, work and kind of write
            // as any rejection.
            return rejected([Decoy.serial], serial: serial, "replay")
        }
        guard let (device, match) = winner else {
            if devices.isEmpty { return rejected([Decoy.serial], SignInReason.noUsableDevice(candidates, now: now)) }
            return rejected(devices.map(\.serial), "invalid-code")
        }
        return .accept(acceptance(device, match: match, now: now),
                       audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, serial: device.serial, result: "accepted", detail: match.detail))
    }

    /// What accepting `match` on `device` moves: a Yubico OTP only its watermark, HOTP the next
    /// counter, TOTP the drift history (the newest ``Policy/driftHistoryLength`` offsets) and the
    /// drift estimate, its median.
    public func acceptance(_ device: DeviceRecord, match: CodeMatch, now: Int64) -> Acceptance {
        var acceptance = Acceptance(serial: device.serial, step: match.step, now: now, counter: device.counter, driftSteps: device.driftSteps,
                                    driftHistory: device.driftHistory)
        if device.kind.isYubicoOTP {
            // The watermark is the OTP's (usage, session) pair; nothing else moves.
        } else if device.kind.isCounterBased {
            acceptance.counter = match.step + 1
        } else {
            let observed = match.step - TOTPStep.of(now, period: device.period)
            acceptance.driftHistory = Array((device.driftHistory + [observed]).suffix(policy.driftHistoryLength))
            acceptance.driftSteps = Self.median(acceptance.driftHistory)
        }
        return acceptance
    }

    /// An HOTP or TOTP device's check of `code` with `key`: both scans, always, so a wrong code (most
    /// failures) costs what a replay or an accept costs.
    public func windowCheck(_ device: DeviceRecord, key: OTPKey, code: String, now: Int64) throws(MFAError) -> CodeCheck {
        let ignoring = try window(device, key: key, code: code, now: now, honourWatermark: false)
        let honoured = try window(device, key: key, code: code, now: now, honourWatermark: true)
        func convert(_ m: WindowMatch?) -> CodeMatch? { m.map { CodeMatch(step: Int64(bitPattern: $0.counter), detail: "offset \($0.offset)") } }
        return CodeCheck(match: convert(honoured), ignoringWatermark: convert(ignoring))
    }

    private func window(_ device: DeviceRecord, key: OTPKey, code: String, now: Int64, honourWatermark: Bool) throws(MFAError) -> WindowMatch? {
        let watermark = honourWatermark && device.watermark >= 0 ? device.watermark : nil
        // A malformed code is checked like a wrong one (same work), then rejected.
        let parsed = try? OTPCode(parsing: code, digits: device.digits)
        let candidate = parsed ?? (try! OTPCode(value: 0, digits: device.digits))
        do {
            let match: WindowMatch?
            if device.kind.isCounterBased {
                let hotp = try HOTP(key: key, digits: device.digits)
                // HOTP codes below the expected counter are replays too: look back over the last window.
                let start = honourWatermark ? device.counter : max(0, device.counter - Int64(policy.hotpLookAhead) - 1)
                match = try hotp.verify(candidate, counter: UInt64(start), lookAhead: policy.hotpLookAhead + Int(device.counter - start),
                                        watermark: watermark.map { UInt64($0) })
            } else {
                let totp = try TOTP(key: key, digits: device.digits, period: device.period)
                match = try totp.verify(candidate, at: now, window: policy.totpWindow, drift: device.driftSteps, watermark: watermark)
            }
            return parsed == nil ? nil : match
        } catch { throw MFAError(.invalidInput, error.message) }
    }

    /// The median drift of `values` (0 when empty); for an even count, the mean of the two middle
    /// values rounded toward zero (no drift): an enable received one step after its codes records −1,
    /// and the first on-time sign-in after it brings the estimate back to 0 instead of keeping −1.
    public static func median(_ values: [Int64]) -> Int64 {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let upper = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[upper] : (sorted[upper - 1] + sorted[upper]) / 2
    }
}

/// What an Idempotency-Key's entry keeps of a verdict, and the verdict a retry gets back from it.
public enum IdempotentVerdict {
    public static func stored(_ result: VerifyResult) -> String {
        switch result {
        case .accepted(let serial): "accepted:" + serial
        case .rejected: "rejected"
        }
    }

    public static func result(_ stored: String) -> VerifyResult {
        stored.hasPrefix("accepted:") ? .accepted(serial: String(stored.dropFirst("accepted:".count))) : .rejected
    }
}

extension IdempotencyClaim {
    /// The claim on a key whose row the store's conditional insert did not take over (it is live):
    /// the same request's finished answer, or still running, or a different request under the same key.
    public init(existingHash: [UInt8], response: String?, requestHash: [UInt8]) {
        if existingHash != requestHash {
            self = .conflict
        } else if let response {
            self = .completed(response)
        } else {
            self = .pending
        }
    }
}
