import OTP

/// The verdict of a sign-in verification. Deliberately without reasons: every rejection (wrong code,
/// replay, locked, unknown user, malformed code) is the same `.rejected` to the caller; the reason is
/// in the audit log.
public enum VerifyResult: Sendable, Hashable {
    case accepted(serial: String)
    case rejected
}

/// What `createVirtual` returns — the only time the seed is ever shown.
public struct VirtualEnrollment: Sendable {
    public let serial: String
    /// Base32 seed for manual entry in an authenticator app.
    public let secretBase32: String
    /// The `otpauth://` URI (for a QR code).
    public let uri: String
}

/// One row of the credential report (no secrets).
public struct CredentialReportRow: Sendable, Hashable, Codable {
    public let user: String
    public let mfaActive: Bool
    public let serial: String
    public let kind: String
    public let state: String
    public let enabledAt: Int64?
    public let lastUsedAt: Int64?
    public let driftSeconds: Int64
    public let failureCount: Int
    public let locked: Bool

    public static let csvHeader = "user,mfa_active,serial,kind,state,enabled_at,last_used_at,drift_seconds,failure_count,locked"

    public var csvLine: String {
        [Self.csv(user), String(mfaActive), Self.csv(serial), kind, state, enabledAt.map(String.init) ?? "", lastUsedAt.map(String.init) ?? "",
         String(driftSeconds), String(failureCount), String(locked)].joined(separator: ",")
    }

    /// A CSV field: quoted when needed, with spreadsheet formulas defused.
    public static func csv(_ field: String) -> String {
        // Quote, and defuse spreadsheet formulas.
        var text = field
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }
}

/// Something that happened in the service that an observer (a server's metrics) may count.
public enum ServiceEvent: Sendable, Hashable {
    /// Consecutive failures reached the lockout threshold and locked the device.
    case deviceLocked(serial: String)
}

/// The MFA registration, verification and resync service.
public struct MFAService: Sendable {
    public let store: any MFAStore
    public let vault: SecretVault
    /// The policy in force; `mfactl serve` replaces it on SIGHUP (``reload(policy:)``).
    public var policy: Policy { policySetting.withLock { $0 } }
    let policySetting: PolicySetting
    /// Unix time in seconds (injectable for tests).
    public let clock: @Sendable () -> Int64
    /// Told of events worth counting (a server's metrics); never of secrets or codes.
    public var observer: (@Sendable (ServiceEvent) -> Void)?
    /// Opened HMAC keys of devices verified lately (the sign-in path's vault opens).
    let openedKeys = OpenedKeyCache()
    /// What a sign-in without a usable device computes instead (``Decoy``).
    let decoy = Decoy()
    /// Diagnoses per device, and technicians' unlocks per device (this process's budgets).
    let diagnoses: RateLimiter
    let technicianUnlocks: RateLimiter

    public init(store: any MFAStore, vault: SecretVault, policy: Policy = Policy(), clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.vault = vault
        policySetting = PolicySetting(policy)
        self.clock = clock
        diagnoses = RateLimiter(limit: policy.diagnoseLimit, period: policy.diagnosePeriodSeconds)
        technicianUnlocks = RateLimiter(limit: policy.technicianUnlockLimit, period: policy.technicianUnlockPeriodSeconds)
    }

    // MARK: Enrollment

    /// Creates a pending device for `user` with a fresh random seed: a virtual TOTP device, an OATH
    /// card credential (TOTP, 30 s) or a HID slot (HOTP from counter 0), with `digits` digits. The
    /// seed is returned here once and never again.
    /// A virtual device may use SHA-256 or SHA-512 and another period (its seed is then as long as the
    /// hash, RFC 6238's reference); many authenticator apps only show SHA-1, 6 digits, 30 s correctly.
    public func createVirtual(
        user: String, issuer: String = "mfa-bridge", kind: DeviceKind = .virtualTOTP, digits: Int = 6,
        algorithm: HashAlgorithm = .sha1, period: Int64 = 30, actor: String
    ) async throws(MFAError) -> VirtualEnrollment {
        return try await refusalAudited("device.create", user: user, actor: actor) { () async throws(MFAError) -> VirtualEnrollment in
            let user = try Validation.userName(user)
            guard kind == .virtualTOTP || kind == .oathCard || kind == .hidSlot else {
                throw MFAError(.invalidInput, "the service generates seeds for virtual-totp, oath-card and hid-slot devices only (yubico-otp: createYubicoOTP)")
            }
            let digits = try Validation.digits(digits)
            guard kind == .virtualTOTP || (algorithm == .sha1 && period == 30) else {
                throw MFAError(.invalidInput, "only virtual-totp devices take another algorithm or period (cards and HID slots are programmed with SHA-1)")
            }
            guard OATHParameters.periods.contains(period) else { throw MFAError(.invalidInput, "a TOTP period must be 1 to 3600 seconds, got \(period)") }
            let secret = OTPSecret.random(byteCount: max(policy.virtualSeedBytes, algorithm.digestBytes))
            let serial = (kind == .virtualTOTP ? "V" : kind == .oathCard ? "C" : "H") + Hex.encode(LibCrypto.randomBytes(8)).uppercased()
            // The URI is built before anything is written: an issuer it refuses leaves no pending device behind.
            let uri: String
            do throws(OTPError) {
                uri = try OTPAuthURI(type: kind.isCounterBased ? .hotp : .totp, issuer: issuer, account: user, secret: secret, algorithm: algorithm,
                                     digits: digits, period: period).uriString
            } catch { throw MFAError(.invalidInput, error.message) }
            let now = clock()
            let record = DeviceRecord(
                serial: serial, kind: kind, owner: user, state: .pending, algorithm: algorithm, digits: digits, period: kind.isCounterBased ? 0 : period,
                counter: 0, sealedSecret: try vault.seal(secret, serial: serial), createdAt: now)
            try await insertWithinLimit(
                record,
                audit: AuditDraft(time: now, actor: actor, action: "device.create", user: user, serial: serial, result: "ok", detail: kind.rawValue))
            return VirtualEnrollment(serial: serial, secretBase32: secret.base32EncodedString(), uri: uri)
        }
    }

    /// Registers a hardware device (or a programmed card/HID credential): unassigned inventory when
    /// `owner` is nil, pending for `owner` otherwise.
    public func register(
        serial: String, kind: DeviceKind, secret: OTPSecret, algorithm: HashAlgorithm = .sha1, digits: Int = 6, period: Int64 = 30,
        counter: Int64 = 0, owner: String? = nil, actor: String
    ) async throws(MFAError) {
        try await refusalAudited("device.register", user: owner, serial: serial, actor: actor) { () async throws(MFAError) -> Void in
            if kind.isYubicoOTP {
                return try await registerYubicoOTP(publicID: serial, secret: secret, owner: owner, actor: actor)
            }
            let serial = try Validation.serial(serial)
            let owner = try owner.map { name throws(MFAError) in try Validation.userName(name) }
            _ = try Validation.digits(digits)
            try Validation.seed(secret)
            guard kind.isCounterBased || OATHParameters.periods.contains(period) else {
                throw MFAError(.invalidInput, "a TOTP period must be 1 to 3600 seconds, got \(period)")
            }
            guard !kind.isCounterBased || OATHParameters.counters.contains(counter) else {
                throw MFAError(.invalidInput, "an HOTP counter must be 0 to 2^48, got \(counter)")
            }
            let now = clock()
            var record = DeviceRecord(
                serial: serial, kind: kind, owner: owner, state: owner == nil ? .unassigned : .pending, algorithm: algorithm, digits: digits,
                period: kind.isCounterBased ? 0 : period, counter: kind.isCounterBased ? counter : 0,
                sealedSecret: try vault.seal(secret, serial: serial), createdAt: now)
            record.seedFingerprint = SeedFingerprinter(vault: vault).fingerprint(secret)
            try await insertWithinLimit(
                record,
                audit: AuditDraft(time: now, actor: actor, action: "device.register", user: owner, serial: serial, result: "ok", detail: kind.rawValue))
        }
    }

    /// Activates a pending device (or assigns and activates an inventory one) with two consecutive
    /// codes: adjacent TOTP steps within the sync window, or adjacent HOTP counters.
    public func enable(user: String, serial: String, code1: String, code2: String, actor: String) async throws(MFAError) {
        try await refusalAudited("device.enable", user: user, serial: serial, actor: actor) { () async throws(MFAError) -> Void in
            let user = try Validation.userName(user)
            var device = try await existing(serial)
            try checkEnableable(device, by: user)
            let now = clock()
            try await refuseIfLapsed(device, now: now, actor: actor)
            guard !device.kind.isYubicoOTP else {
                throw MFAError(.invalidInput, "device \(serial) is a Yubico OTP device: enable it with one OTP (enable(user:serial:otp:))")
            }
            let match = try synchronize(device, code1: code1, code2: code2, now: now, excludeUsed: false)
            apply(match, to: &device)
            try await activate(device, for: user, now: now, detail: match.detail, actor: actor)
        }
    }

    /// Throws unless `user` may enable `device` now: pending for that user, or unassigned inventory.
    func checkEnableable(_ device: DeviceRecord, by user: String) throws(MFAError) {
        switch device.state {
        case .pending where device.owner.hasSameBytes(as: user), .unassigned: return
        case .pending: throw MFAError(.conflict, "device \(device.serial) is pending for another user")
        default:
            throw MFAError(.conflict, "device \(device.serial) is \(device.state.rawValue); only pending or unassigned devices can be enabled")
        }
    }

    /// Makes `device` active for `user` (assigning it when it comes from the inventory, within the
    /// per-user limit) in one audited compare-and-set update.
    func activate(_ device: DeviceRecord, for user: String, now: Int64, detail: String, actor: String) async throws(MFAError) {
        var device = device
        let assigning = device.state == .unassigned
        device.owner = user
        device.state = .active
        device.enabledAt = now
        let audit = AuditDraft(time: now, actor: actor, action: "device.enable", user: user, serial: device.serial, result: "ok", detail: detail)
        let limit = assigning ? policy.maximumDevicesPerUser : nil
        let updated = try await withinLimit(owner: user, now: now, actor: actor) { () throws(MFAError) in
            try await store.update(device, maximumPerOwner: limit, audit: audit)
        }
        guard updated else { throw MFAError(.conflict, "device \(device.serial) changed meanwhile; try again") }
    }

    /// Re-synchronizes an active (or locked) device from two consecutive codes searched over the sync
    /// window; codes at or below the replay watermark do not count. Clears failures and locks.
    public func resync(user: String, serial: String, code1: String, code2: String, actor: String) async throws(MFAError) {
        try await refusalAudited("device.resync", user: user, serial: serial, actor: actor) { () async throws(MFAError) -> Void in
            let user = try Validation.userName(user)
            var device = try await existing(serial)
            guard device.owner.hasSameBytes(as: user) else { throw MFAError(.noSuchDevice, "user \(user) has no device \(serial)") }
            guard device.state == .active || device.state == .locked else {
                throw MFAError(.conflict, "device \(serial) is \(device.state.rawValue); only active or locked devices can be resynchronized")
            }
            guard !device.kind.isYubicoOTP else {
                throw MFAError(.invalidInput, "device \(serial) is a Yubico OTP device: its counters need no resynchronization (unlock it to clear failures)")
            }
            let now = clock()
            let match = try synchronize(device, code1: code1, code2: code2, now: now, excludeUsed: true)
            device.state = .active
            device.failureCount = 0
            device.lockouts = 0
            device.lockedUntil = nil
            apply(match, to: &device)
            guard try await store.update(
                device, maximumPerOwner: nil,
                audit: AuditDraft(time: now, actor: actor, action: "device.resync", user: user, serial: serial, result: "ok", detail: match.detail))
            else { throw MFAError(.conflict, "device \(serial) changed meanwhile; try again") }
        }
    }

    // MARK: Lifecycle

    /// Idempotent, as an admin scripting it expects: false (and an `unchanged` audit entry) when the
    /// device was already deactivated.
    @discardableResult
    public func deactivate(serial: String, actor: String) async throws(MFAError) -> Bool {
        return try await refusalAudited("device.deactivate", serial: serial, actor: actor) { () async throws(MFAError) -> Bool in
            var device = try await existing(serial)
            guard device.state != .deactivated else {
                try await store.appendAudit(AuditDraft(time: clock(), actor: actor, action: "device.deactivate", user: device.owner, serial: serial, result: "unchanged"))
                return false
            }
            device.state = .deactivated
            device.lockedUntil = nil
            try await commit(device, action: "device.deactivate", actor: actor)
            return true
        }
    }

    /// Deletes a device. Like AWS's DeleteConflict, a virtual device must be deactivated first, and no
    /// device is deleted while active.
    public func delete(serial: String, actor: String) async throws(MFAError) {
        try await refusalAudited("device.delete", serial: serial, actor: actor) { () async throws(MFAError) -> Void in
            let device = try await existing(serial)
            if device.kind == .virtualTOTP && device.state != .deactivated {
                throw MFAError(.conflict, "virtual device \(serial) must be deactivated before it is deleted")
            }
            if device.state == .active || device.state == .locked {
                throw MFAError(.conflict, "device \(serial) is \(device.state.rawValue); deactivate it first")
            }
            guard try await store.delete(
                serial: serial, revision: device.revision,
                audit: AuditDraft(time: clock(), actor: actor, action: "device.delete", user: device.owner, serial: serial, result: "ok"))
            else { throw MFAError(.conflict, "device \(serial) changed meanwhile; try again") }
        }
    }

    public func list(user: String) async throws(MFAError) -> [DeviceRecord] {
        try await store.devices(owner: try Validation.userName(user))
    }

    public func inventory(_ assignment: Assignment) async throws(MFAError) -> [DeviceRecord] {
        try await store.devices(assignment: assignment)
    }

    /// One row per user and device.
    public func credentialReport() async throws(MFAError) -> [CredentialReportRow] {
        let devices = try await store.devices(assignment: .assigned)
        let now = clock()
        let activeUsers = Set(devices.filter { $0.state == .active }.compactMap { $0.owner.map(ByteKey.init) })
        return devices.sorted { ($0.owner ?? "", $0.serial) < ($1.owner ?? "", $1.serial) }.map { d in
            CredentialReportRow(
                user: d.owner ?? "", mfaActive: activeUsers.contains(ByteKey(d.owner ?? "")), serial: d.serial, kind: d.kind.rawValue, state: d.state.rawValue,
                enabledAt: d.enabledAt, lastUsedAt: d.lastUsedAt, driftSeconds: d.driftSteps * d.period, failureCount: d.failureCount,
                locked: d.state == .locked && (d.lockedUntil ?? Int64.max) > now)
        }
    }

    // MARK: Audit and keys

    public func auditEntries(after: Int64 = 0, limit: Int = 1000) async throws(MFAError) -> [AuditEntry] {
        try await store.auditEntries(after: after, limit: limit)
    }

    /// The entries `query` selects (its limit from 1 to 10 000).
    public func auditEntries(_ query: AuditQuery) async throws(MFAError) -> [AuditEntry] {
        guard (1...10_000).contains(query.limit) else { throw MFAError(.invalidInput, "limit must be an integer from 1 to 10000") }
        guard query.after >= 0 else { throw MFAError(.invalidInput, "after must be a sequence number (an integer ≥ 0)") }
        return try await store.auditEntries(query)
    }

    /// Verifies the audit chain against its signed checkpoint, reading `pageSize` entries at a time:
    /// memory stays one page, whatever the log's length.
    public func verifyAuditChain(pageSize: Int = 10_000) async throws(MFAError) -> AuditVerification {
        // Every entry is checked, those past the signed checkpoint too (an entry appended without the
        // vault key is found).
        var verifier = AuditChain.Verifier(chain: AuditChain(vault: vault))
        var after: Int64 = 0
        while true {
            let page = try await store.auditEntries(after: after, limit: max(1, pageSize))
            verifier.feed(page)
            guard let last = page.last, page.count == max(1, pageSize) else { break }
            after = last.sequence
        }
        return verifier.finish(checkpoint: try await store.auditCheckpoint())
    }

    /// Re-seals every secret under `newVault` in one transaction. Restart with the new key afterwards.
    public func rotate(to newVault: SecretVault, actor: String) async throws(MFAError) -> Int {
        return try await refusalAudited("vault.rotate", actor: actor) { () async throws(MFAError) -> Int in
            let old = vault
            return try await store.resealAll(
                { device throws(MFAError) in try newVault.seal(try old.open(device.sealedSecret, serial: device.serial), serial: device.serial) },
                newChain: AuditChain(vault: newVault),
                audit: AuditDraft(time: clock(), actor: actor, action: "vault.rotate", result: "ok", detail: "new key id \(Hex.encode(newVault.keyID))"))
        }
    }

    // MARK: Internals

    struct SyncMatch {
        /// The step/counter of the second code.
        var lastStep: Int64
        var driftSteps: Int64
        var nextCounter: Int64
        var detail: String
    }

    private func synchronize(_ device: DeviceRecord, code1: String, code2: String, now: Int64, excludeUsed: Bool) throws(MFAError) -> SyncMatch {
        let secret = try vault.open(device.sealedSecret, serial: device.serial)
        guard let c1 = try? OTPCode(parsing: code1, digits: device.digits), let c2 = try? OTPCode(parsing: code2, digits: device.digits) else {
            throw MFAError(.invalidCode, "the codes must be \(device.digits) digits")
        }
        let watermark = excludeUsed && device.watermark >= 0 ? device.watermark : nil
        do {
            if device.kind.isCounterBased {
                let hotp = try HOTP(secret: secret, algorithm: device.algorithm, digits: device.digits)
                let start = UInt64(device.counter)
                if let m = try hotp.resync(c1, c2, from: start, window: policy.hotpSyncWindow, watermark: watermark.map { UInt64($0) }) {
                    let second = Int64(m.counter) + 1
                    return SyncMatch(lastStep: second, driftSteps: 0, nextCounter: second + 1, detail: "counter \(second)")
                }
                let used = watermark.map { UInt64($0) }
                let one = try hotp.verify(c1, counter: start, lookAhead: policy.hotpSyncWindow, watermark: used)
                let two = try hotp.verify(c2, counter: start, lookAhead: policy.hotpSyncWindow, watermark: used)
                if one != nil && two != nil { throw MFAError(.notConsecutive, "the two codes are valid but not consecutive") }
            } else {
                let totp = try TOTP(secret: secret, algorithm: device.algorithm, digits: device.digits, period: device.period)
                if let m = try totp.resync(c1, c2, at: now, window: policy.totpSyncWindow, watermark: watermark) {
                    let second = Int64(m.counter) + 1
                    return SyncMatch(lastStep: second, driftSteps: m.offset + 1, nextCounter: 0, detail: "drift \(m.offset + 1) steps")
                }
                let one = try totp.verify(c1, at: now, window: policy.totpSyncWindow, watermark: watermark)
                let two = try totp.verify(c2, at: now, window: policy.totpSyncWindow, watermark: watermark)
                if one != nil && two != nil { throw MFAError(.notConsecutive, "the two codes are valid but not consecutive") }
            }
        } catch let error as OTPError { throw MFAError(.invalidInput, error.message) }
        catch let error as MFAError { throw error }
        catch { throw MFAError(.invalidInput, String(describing: error)) }
        throw MFAError(.invalidCode, "the codes do not match this device " + searchedWindow(device))
    }

    /// Where ``synchronize(_:code1:code2:now:excludeUsed:)`` looked, in words, so a technician knows
    /// whether the device is beyond reach (then it needs enrolling again) or the codes were mistyped.
    private func searchedWindow(_ device: DeviceRecord) -> String {
        if device.kind.isCounterBased {
            return "within the resync window (the \(policy.hotpSyncWindow) counter values after the last one used): "
                + "check that both are consecutive codes of this token; a token pressed more often than that must be enrolled again"
        }
        let steps = Int64(policy.totpSyncWindow)
        return "within the resync window (±\(steps) steps of \(device.period) s, ±\(SecondsText.describe(steps * Int64(device.period))) "
            + "around the server's time): check that both are consecutive codes of this device; one whose clock is further off must be enrolled again"
    }

    private func apply(_ match: SyncMatch, to device: inout DeviceRecord) {
        device.watermark = match.lastStep
        if device.kind.isCounterBased {
            device.counter = match.nextCounter
        } else {
            device.driftSteps = match.driftSteps
            device.driftHistory = [match.driftSteps]
        }
    }

    /// A code that matched a device: the step, counter or (usage, session) value it commits as the
    /// new watermark, and the audit detail.
    func usable(_ device: DeviceRecord, now: Int64) -> Bool { SignInRules(policy: policy, decoy: decoy).usable(device, now: now) }

    func existing(_ serial: String) async throws(MFAError) -> DeviceRecord {
        guard let device = try await store.device(serial: try Validation.serial(serial)) else {
            throw MFAError(.noSuchDevice, "no device \(serial)")
        }
        return device
    }

    func commit(_ device: DeviceRecord, action: String, actor: String) async throws(MFAError) {
        guard try await store.update(
            device, maximumPerOwner: nil,
            audit: AuditDraft(time: clock(), actor: actor, action: action, user: device.owner, serial: device.serial, result: "ok"))
        else { throw MFAError(.conflict, "device \(device.serial) changed meanwhile; try again") }
    }
}

enum TOTPStep {
    static func of(_ time: Int64, period: Int64) -> Int64 {
        let q = time / period
        return (time % period != 0 && time < 0) ? q - 1 : q
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
