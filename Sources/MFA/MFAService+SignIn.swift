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
                try await store.completeIdempotency(key: key, response: IdempotentVerdict.stored(result))
                return result
            case .completed(let stored):
                return IdempotentVerdict.result(stored)
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

    /// The sign-in decision for `code` against `candidates` (pure: the store commits it), by the
    /// rules of the policy in force now (one reading of a policy a reload may replace meanwhile).
    func decide(_ candidates: [DeviceRecord], user: String, code: String, now: Int64, actor: String) throws(MFAError) -> SignInDecision {
        let rules = SignInRules(policy: policy, decoy: decoy)
        return try rules.decide(candidates, user: user, code: code, now: now, actor: actor) { device throws(MFAError) in
            try self.codeCheck(device, rules: rules, code: code, now: now)
        }
    }

    /// `code` against `device` with and without the replay watermark: HOTP/TOTP window checks with
    /// the device's opened key, or a Yubico OTP's decryption.
    func codeCheck(_ device: DeviceRecord, rules: SignInRules, code: String, now: Int64) throws(MFAError) -> SignInRules.CodeCheck {
        if device.kind.isYubicoOTP { return try yubicoOTPCheck(device, otp: code) }
        return try rules.windowCheck(device, key: try openedKeys.key(for: device, vault: vault), code: code, now: now)
    }
}
