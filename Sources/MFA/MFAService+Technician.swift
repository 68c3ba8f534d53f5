import OTP

/// Where a code falls for a device (for technicians). Changes nothing but the audit log and, for a
/// code that matches nothing, the device's failure count.
public struct Diagnosis: Sendable, Hashable, Codable {
    public let serial: String
    public let found: Bool
    /// HOTP: counter − expected counter. TOTP: step − current step (the device's clock offset in
    /// steps). Nil when not found, and when the code lies ahead of the sign-in window: how far ahead
    /// is what would let a caller keep a future code for the moment a sign-in accepts it.
    public let offset: Int64?
    /// TOTP: offset in seconds (nil whenever `offset` is).
    public let offsetSeconds: Int64?
    /// The code was already used (at or below the replay watermark).
    public let alreadyUsed: Bool
    /// A sign-in with this code would be accepted now (never while the device is locked, pending or
    /// deactivated).
    public var withinSignInWindow: Bool
    /// The code is the device's, but ahead of the sign-in window by an amount not reported (the
    /// token's clock or counter runs ahead: resync it).
    public let aheadOfSignInWindow: Bool
    /// The device's state, and until when a lock holds (Unix seconds): what a sign-in checks first.
    public var state: DeviceState?
    public var lockedUntil: Int64?
    /// The replay watermark: the last accepted TOTP step or HOTP counter (nil: none accepted yet, or a
    /// Yubico OTP device, whose watermark is its usage counter pair).
    public var watermark: Int64?
    public var failureCount: Int?
}

extension MFAService {
    /// Where `code` falls for device `serial`: searches the sync window around now (TOTP) or around
    /// the expected counter (HOTP).
    ///
    /// Built for a technician with the user on the phone, and kept from being a code oracle for
    /// whoever holds a technician key: at most ``Policy/diagnoseLimit`` calls per device per
    /// ``Policy/diagnosePeriodSeconds`` (a refused call is audited, then `rate-limited`); a code that
    /// matches nothing counts as one failure towards the device's lockout, like a wrong sign-in; a
    /// code ahead of the sign-in window is reported only as ``Diagnosis/aheadOfSignInWindow``. Every
    /// call is audited with `actor`.
    public func diagnose(serial: String, code: String, actor: String) async throws(MFAError) -> Diagnosis {
        return try await refusalAudited("device.diagnose", serial: serial, actor: actor) { () async throws(MFAError) -> Diagnosis in
            let device = try await existing(serial)
            let now = clock()
            guard diagnoses.allow(device.serial, now: now) else {
                try await store.appendAudit(AuditDraft(time: now, actor: actor, action: "device.diagnose", user: device.owner, serial: serial, result: "rate-limited"))
                throw MFAError(.rateLimited, "device \(serial) was diagnosed \(policy.diagnoseLimit) times in the last \(policy.diagnosePeriodSeconds / 60) minutes; try again later or resync it")
            }
            var result = device.kind.isYubicoOTP ? try yubicoOTPDiagnosis(device, otp: code, now: now) : try oathDiagnosis(device, code: code, now: now)
            // The state first: a locked, pending or deactivated device accepts no code, wherever it falls.
            result.state = device.state
            result.lockedUntil = device.state == .locked ? device.lockedUntil : nil
            result.watermark = device.kind.isYubicoOTP || device.watermark < 0 ? nil : device.watermark
            result.failureCount = device.failureCount
            if !usable(device, now: now) { result.withinSignInWindow = false }
            let audit = AuditDraft(time: now, actor: actor, action: "device.diagnose", user: device.owner, serial: serial, result: result.found ? "found" : "not-found")
            if result.found {
                try await store.appendAudit(audit)
            } else {
                // A guess like any wrong sign-in: counted, and locking at the threshold.
                _ = try await settle(
                    .rejected(locked: try await store.recordFailure(serials: [serial], policy: policy, now: now, audit: audit)), user: device.owner, now: now)
            }
            return result
        }
    }

    /// ``diagnose(serial:code:actor:)`` for an HOTP or TOTP device.
    private func oathDiagnosis(_ device: DeviceRecord, code: String, now: Int64) throws(MFAError) -> Diagnosis {
        let serial = device.serial
        let secret = try vault.open(device.sealedSecret, serial: serial)
        let otpCode: OTPCode
        do { otpCode = try OTPCode(parsing: code, digits: device.digits) } catch { throw MFAError(.invalidInput, error.message) }
        let notFound = Diagnosis(serial: serial, found: false, offset: nil, offsetSeconds: nil, alreadyUsed: false, withinSignInWindow: false, aheadOfSignInWindow: false)
        do {
            if device.kind.isCounterBased {
                let hotp = try HOTP(secret: secret, algorithm: device.algorithm, digits: device.digits)
                let start = max(0, device.counter - Int64(policy.hotpSyncWindow))
                guard let m = try hotp.verify(otpCode, counter: UInt64(start), lookAhead: Int(device.counter - start) + policy.hotpSyncWindow) else { return notFound }
                let counter = Int64(bitPattern: m.counter)
                let offset = counter - device.counter
                let ahead = offset > Int64(policy.hotpLookAhead)
                return Diagnosis(
                    serial: serial, found: true, offset: ahead ? nil : offset, offsetSeconds: nil, alreadyUsed: counter <= device.watermark,
                    withinSignInWindow: offset >= 0 && !ahead && counter > device.watermark, aheadOfSignInWindow: ahead)
            }
            let totp = try TOTP(secret: secret, algorithm: device.algorithm, digits: device.digits, period: device.period)
            guard let m = try totp.verify(otpCode, at: now, window: policy.totpSyncWindow) else { return notFound }
            let step = Int64(bitPattern: m.counter)
            let relative = m.offset - device.driftSteps
            let ahead = relative > Int64(policy.totpWindow)
            return Diagnosis(
                serial: serial, found: true, offset: ahead ? nil : m.offset, offsetSeconds: ahead ? nil : m.offset * device.period,
                alreadyUsed: step <= device.watermark, withinSignInWindow: abs(relative) <= Int64(policy.totpWindow) && step > device.watermark,
                aheadOfSignInWindow: ahead)
        } catch { throw MFAError(.invalidInput, error.message) }
    }

    /// ``diagnose(serial:code:actor:)`` for a Yubico OTP: whether it is the device's, used, and would
    /// sign in (a Yubico OTP has no window, so nothing is ever "ahead").
    private func yubicoOTPDiagnosis(_ device: DeviceRecord, otp: String, now: Int64) throws(MFAError) -> Diagnosis {
        let check = try yubicoOTPCheck(device, otp: otp)
        let (match, ignoringWatermark) = (check.match, check.ignoringWatermark)
        return Diagnosis(
            serial: device.serial, found: ignoringWatermark != nil, offset: nil, offsetSeconds: nil,
            alreadyUsed: ignoringWatermark != nil && match == nil, withinSignInWindow: match != nil && usable(device, now: now),
            aheadOfSignInWindow: false)
    }

    /// Lifts a lock and clears the failure count. `byTechnician`: the caller is not an admin, and
    /// gets at most ``Policy/technicianUnlockLimit`` unlocks of the device per
    /// ``Policy/technicianUnlockPeriodSeconds`` (each unlock restores the full failure budget, so an
    /// unbounded one would undo the lockout); a refused unlock is audited, then `rate-limited`.
    /// Idempotent: false (an `unchanged` audit entry, no technician unlock used up) when the device
    /// was neither locked nor had failures.
    @discardableResult
    public func unlock(serial: String, actor: String, byTechnician: Bool = false) async throws(MFAError) -> Bool {
        return try await refusalAudited("device.unlock", serial: serial, actor: actor) { () async throws(MFAError) -> Bool in
            var device = try await existing(serial)
            guard device.state == .locked || device.failureCount > 0 else {
                try await store.appendAudit(AuditDraft(time: clock(), actor: actor, action: "device.unlock", user: device.owner, serial: serial, result: "unchanged"))
                return false
            }
            if byTechnician {
                let now = clock()
                guard technicianUnlocks.allow(device.serial, now: now) else {
                    try await store.appendAudit(AuditDraft(time: now, actor: actor, action: "device.unlock", user: device.owner, serial: serial, result: "rate-limited"))
                    throw MFAError(.rateLimited, "device \(serial) was unlocked by a technician \(policy.technicianUnlockLimit) times in the last \(policy.technicianUnlockPeriodSeconds / 3_600) hours; an admin can unlock it")
                }
            }
            if device.state == .locked { device.state = .active }
            device.failureCount = 0
            device.lockedUntil = nil
            try await commit(device, action: "device.unlock", actor: actor)
            return true
        }
    }
}
