import OTP

// MARK: Sign-in

extension MFAService {
    /// Is `code` right for `user` now? Checks every usable device of the user in constant time per
    /// device (all windows computed, no early exit), accepts each code once across all processes
    /// (compare-and-set on the replay watermark), counts failures and locks. One answer for every
    /// kind of rejection.
    public func verify(user: String, code: String, actor: String) async throws(MFAError) -> VerifyResult {
        let now = clock()
        // A name that breaks the naming rule names no account, so saying so reveals nothing about one;
        // a gateway that sends NFD (or over-long) names learns why every sign-in fails.
        let user = try Validation.userName(user)
        guard SignInCode(code) != nil else {
            try await store.appendAudit(AuditDraft(time: now, actor: actor, action: "verify", user: user, result: "rejected", detail: SignInCode.malformedDetail(code)))
            return .rejected
        }
        let outcome = try await store.signIn(owner: user) { devices throws(MFAError) in
            try self.decide(devices, user: user, code: code, now: now, actor: actor)
        }
        return try await settle(outcome, user: user, now: now)
    }

    /// ``verify(user:code:actor:)`` with an idempotency key: a retry with the same key and the same
    /// user and code within `ttl` seconds gets the first verdict back without verifying again (no
    /// second failure count, no false replay on a gateway retry); the code itself stays single-use for
    /// any other key. The same key with a different body is a conflict.
    public func verify(user: String, code: String, idempotencyKey: String, actor: String, ttl: Int64 = 300) async throws(MFAError) -> VerifyResult {
        guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255, idempotencyKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw MFAError(.invalidInput, "an Idempotency-Key has 1 to 255 visible ASCII characters")
        }
        // Checked before the claim, so a refused name cannot leave a claim pending.
        let user = try Validation.userName(user)
        // Scoped to the caller, and never storing the code itself: only a hash of the request.
        let key = actor + "|" + idempotencyKey
        let requestHash = LibCrypto.digest(.sha256, Array("\(user.utf8.count):\(user)|\(code)".utf8))
        for _ in 0..<100 {
            switch try await store.claimIdempotency(key: key, requestHash: requestHash, now: clock(), ttl: ttl, lease: policy.idempotencyLeaseSeconds) {
            case .claimed:
                let result = try await verify(user: user, code: code, actor: actor)
                let stored: String
                switch result {
                case .accepted(let serial): stored = "accepted:" + serial
                case .rejected: stored = "rejected"
                }
                try await store.completeIdempotency(key: key, response: stored)
                return result
            case .completed(let stored):
                return stored.hasPrefix("accepted:") ? .accepted(serial: String(stored.dropFirst("accepted:".count))) : .rejected
            case .conflict:
                throw MFAError(.conflict, "this Idempotency-Key was used with a different request")
            case .pending:
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        throw MFAError(.conflict, "a request with this Idempotency-Key is still in progress")
    }

    /// Deletes the Idempotency-Key entries older than `ttl` seconds, `batch` rows per statement (a
    /// server runs this periodically, off the sign-in path); returns how many.
    public func purgeExpiredIdempotency(ttl: Int64 = 300, batch: Int = 10_000) async throws(MFAError) -> Int {
        let before = clock() - ttl
        var total = 0
        while true {
            let deleted = try await store.purgeIdempotency(before: before, limit: batch)
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// Like ``verify(user:code:actor:)`` for one device (a hardware token identified by its serial).
    public func verify(serial: String, code: String, actor: String) async throws(MFAError) -> VerifyResult {
        let now = clock()
        guard SignInCode(code) != nil else {
            try await store.appendAudit(AuditDraft(time: now, actor: actor, action: "verify", result: "rejected", detail: SignInCode.malformedDetail(code)))
            return .rejected
        }
        guard let serial = try? Validation.serial(serial), let device = try await store.device(serial: serial), let owner = device.owner else {
            try await store.appendAudit(AuditDraft(time: now, actor: actor, action: "verify", result: "rejected", detail: "unknown-serial"))
            return .rejected
        }
        return try await verify(among: [device], user: owner, code: code, now: now, actor: actor)
    }

    func verify(among candidates: [DeviceRecord], user: String, code: String, now: Int64, actor: String) async throws(MFAError) -> VerifyResult {
        try await settle(try await store.commit(try decide(candidates, user: user, code: code, now: now, actor: actor)), user: user, now: now)
    }

    /// Logs the locks a rejection caused and turns the outcome into the caller's verdict.
    func settle(_ outcome: SignInOutcome, user: String?, now: Int64) async throws(MFAError) -> VerifyResult {
        switch outcome {
        case .accepted(let serial):
            return .accepted(serial: serial)
        case .rejected(let locked):
            for serial in locked {
                observer?(.deviceLocked(serial: serial))
                try await store.appendAudit(AuditDraft(time: now, actor: "system", action: "device.lock", user: user, serial: serial, result: "locked", detail: "threshold \(policy.lockoutThreshold)"))
            }
            return .rejected
        }
    }

    /// The sign-in decision for `code` against `candidates` (pure: the store commits it).
    func decide(_ candidates: [DeviceRecord], user: String, code: String, now: Int64, actor: String) throws(MFAError) -> SignInDecision {
        // One reading of a policy a reload may replace meanwhile.
        let policy = self.policy
        let devices = candidates.filter { usable($0, now: now) }
        var winner: (device: DeviceRecord, match: CodeMatch)?
        var replayOf: String?
        for device in devices {
            // Every device is checked, whatever the others gave, and each twice (with and without the
            // replay watermark) so replays and wrong codes cost the same work.
            let (match, ignoringWatermark) = try codeCheck(device, code: code, now: now)
            if winner == nil, let match { winner = (device, match) }
            if replayOf == nil, match == nil, ignoringWatermark != nil { replayOf = device.serial }
        }
        // A user without a usable device (unknown, locked, pending only) costs what a wrong code for
        // one device costs: the same HMAC work on a decoy, and the same failure statement, on a
        // serial no device has (so nothing is counted).
        if devices.isEmpty { _ = try codeCheck(decoy.device, key: decoy.key, code: code, now: now) }
        if winner == nil, !devices.isEmpty, !devices.contains(where: { SignInCode(code)?.fits($0) ?? false }) {
            // Well formed, but no device of this user takes codes of this form (7 digits for 6-digit
            // devices, a Yubico OTP for TOTP ones): a slip, not a guess. The same work was done;
            // nothing is counted.
            return .fail(serials: [Decoy.serial], policy: policy, now: now,
                         audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, result: "rejected",
                                           detail: "malformed: the form of the code fits none of the user's devices"))
        }
        if winner == nil, let serial = replayOf {
            // A code that was right but is used up: not a guess, so no failure is counted (a replayed
            // or duplicated code must not lock the user out); the same answer, work and kind of write
            // as any rejection.
            return .fail(serials: [Decoy.serial], policy: policy, now: now,
                         audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, serial: serial, result: "rejected", detail: "replay"))
        }
        guard let (device, match) = winner else {
            let reason = devices.isEmpty ? SignInReason.noUsableDevice(candidates, now: now) : "invalid-code"
            return .fail(serials: devices.isEmpty ? [Decoy.serial] : devices.map(\.serial), policy: policy, now: now,
                         audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, result: "rejected", detail: reason))
        }
        let step = match.step
        var acceptance = Acceptance(serial: device.serial, step: step, now: now, counter: device.counter, driftSteps: device.driftSteps, driftHistory: device.driftHistory)
        if device.kind.isYubicoOTP {
            // The watermark is the OTP's (usage, session) pair; nothing else moves.
        } else if device.kind.isCounterBased {
            acceptance.counter = step + 1
        } else {
            let observed = step - TOTPStep.of(now, period: device.period)
            acceptance.driftHistory = Array((device.driftHistory + [observed]).suffix(policy.driftHistoryLength))
            acceptance.driftSteps = Self.median(acceptance.driftHistory)
        }
        return .accept(acceptance, audit: AuditDraft(time: now, actor: actor, action: "verify", user: user, serial: device.serial, result: "accepted", detail: match.detail))
    }


    /// Checks `code` against `device` with and without the replay watermark (the same work for replays
    /// and wrong codes): HOTP/TOTP window checks, or Yubico OTP decryption.
    func codeCheck(_ device: DeviceRecord, key given: OTPKey? = nil, code: String, now: Int64) throws(MFAError) -> (match: CodeMatch?, ignoringWatermark: CodeMatch?) {
        if device.kind.isYubicoOTP { return try yubicoOTPCheck(device, otp: code) }
        let key: OTPKey
        if let given { key = given } else { key = try openedKeys.key(for: device, vault: vault) }
        // Both scans, always: a wrong code (most failures) costs what a replay or an accept costs.
        let ignoring = try windowCheck(device, key: key, code: code, now: now, honourWatermark: false)
        let honoured = try windowCheck(device, key: key, code: code, now: now, honourWatermark: true)
        func convert(_ m: WindowMatch?) -> CodeMatch? { m.map { CodeMatch(step: Int64(bitPattern: $0.counter), detail: "offset \($0.offset)") } }
        return (convert(honoured), convert(ignoring))
    }

    func windowCheck(_ device: DeviceRecord, key: OTPKey, code: String, now: Int64, honourWatermark: Bool) throws(MFAError) -> WindowMatch? {
        let policy = self.policy
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
}
