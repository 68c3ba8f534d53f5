import OTP

/// What `createYubicoOTP` returns — the only time the AES key and the private id are ever shown.
public struct YubicoOTPEnrollment: Sendable {
    /// The device serial: the public id.
    public let serial: String
    /// The public id the token types before each OTP (12 modhex characters).
    public let publicID: String
    /// The 6-byte private id, hexadecimal.
    public let privateIDHex: String
    /// The AES-128 key, hexadecimal.
    public let aesKeyHex: String
}

/// Yubico OTP devices: generated credentials, enabling from one OTP, verification with replay
/// protection on the (usage, session) counters through the same compare-and-set as HOTP/TOTP.
extension MFAService {
    /// Bytes of the sealed secret of a `yubico-otp` device: AES-128 key (16) then private id (6).
    static let yubicoSecretBytes = YubicoOTP.keyLength + YubicoOTP.privateIDLength

    /// Creates a pending `yubico-otp` device for `user` with a fresh public id (`vv` + 10 random
    /// modhex characters, the range for self-programmed keys), private id and AES-128 key. The key and
    /// private id are returned here once and never again; program them into the token's slot, then
    /// ``enable(user:serial:otp:actor:)`` with one OTP it types.
    public func createYubicoOTP(user: String, actor: String) async throws(MFAError) -> YubicoOTPEnrollment {
        return try await refusalAudited("device.create", user: user, actor: actor) { () async throws(MFAError) -> YubicoOTPEnrollment in
            let user = try Validation.userName(user)
            var attempts = 0
            while true {
                let publicID = "vv" + Modhex.encode(LibCrypto.randomBytes(5))
                let secret = OTPSecret.random(byteCount: Self.yubicoSecretBytes)
                let now = clock()
                let record = DeviceRecord(
                    serial: publicID, kind: .yubicoOTP, owner: user, state: .pending, algorithm: .sha1, digits: 44, period: 0, counter: 0,
                    sealedSecret: try vault.seal(secret, serial: publicID), createdAt: now)
                do throws(MFAError) {
                    try await insertWithinLimit(
                        record,
                        audit: AuditDraft(time: now, actor: actor, action: "device.create", user: user, serial: publicID, result: "ok", detail: DeviceKind.yubicoOTP.rawValue))
                } catch where error.code == .alreadyExists && attempts < 3 {
                    attempts += 1  // 40 random bits collided with a stored serial: draw again
                    continue
                } catch {
                    throw error
                }
                let (key, privateID) = secret.withUnsafeBytes { raw in
                    (Hex.encode(Array(raw[0..<YubicoOTP.keyLength])), Hex.encode(Array(raw[YubicoOTP.keyLength...])))
                }
                return YubicoOTPEnrollment(serial: publicID, publicID: publicID, privateIDHex: privateID, aesKeyHex: key)
            }
        }
    }

    /// Registers a token already programmed elsewhere: its public id as serial, `secret` = AES key ‖ private id.
    func registerYubicoOTP(publicID: String, secret: OTPSecret, owner: String?, actor: String) async throws(MFAError) {
        let serial = try Validation.publicID(publicID)
        let owner = try owner.map { name throws(MFAError) in try Validation.userName(name) }
        guard secret.count == Self.yubicoSecretBytes else {
            throw MFAError(.invalidInput, "a yubico-otp secret is the 16-byte AES key followed by the 6-byte private id (22 bytes), got \(secret.count)")
        }
        let weak = secret.withUnsafeBytes { raw in raw[0..<YubicoOTP.keyLength].allSatisfy { $0 == 0 } }
        guard !weak else { throw MFAError(.invalidInput, "the AES key is all zeros") }
        let now = clock()
        var record = DeviceRecord(
            serial: serial, kind: .yubicoOTP, owner: owner, state: owner == nil ? .unassigned : .pending, algorithm: .sha1, digits: 44, period: 0,
            counter: 0, sealedSecret: try vault.seal(secret, serial: serial), createdAt: now)
        record.seedFingerprint = SeedFingerprinter(vault: vault).fingerprint(secret)
        try await insertWithinLimit(
            record,
            audit: AuditDraft(time: now, actor: actor, action: "device.register", user: owner, serial: serial, result: "ok", detail: DeviceKind.yubicoOTP.rawValue))
    }

    /// Activates a pending (or assigns and activates an unassigned) `yubico-otp` device with one OTP it
    /// typed: it must decrypt under the device's key, pass its CRC, carry the device's public and
    /// private ids, and be newer than any OTP seen; its (usage, session) counters become the replay
    /// watermark, so the enabling OTP cannot sign in afterwards.
    public func enable(user: String, serial: String, otp: String, actor: String) async throws(MFAError) {
        try await refusalAudited("device.enable", user: user, serial: serial, actor: actor) { () async throws(MFAError) -> Void in
            let user = try Validation.userName(user)
            var device = try await existing(serial)
            guard device.kind.isYubicoOTP else {
                throw MFAError(.invalidInput, "device \(serial) is \(device.kind.rawValue): enable it with two consecutive codes")
            }
            try checkEnableable(device, by: user)
            let now = clock()
            try await refuseIfLapsed(device, now: now, actor: actor)
            let check = try yubicoOTPCheck(device, otp: otp)
            let (match, ignoringWatermark) = (check.match, check.ignoringWatermark)
            guard let match else {
                if ignoringWatermark != nil { throw MFAError(.invalidCode, "this OTP was already used") }
                throw MFAError(.invalidCode, "the OTP does not belong to device \(serial) (public id, key, CRC or private id)")
            }
            device.watermark = match.step
            try await activate(device, for: user, now: now, detail: match.detail, actor: actor)
        }
    }

    /// One decryption of `otp` under the device's key: the match when it is valid and newer than the
    /// watermark, and the match ignoring the watermark (a replay when only that one is set). The
    /// public id typed in front must be the device's (its serial); the private id is compared in
    /// constant time inside ``YubicoOTP/validate(_:secret:publicID:last:)``.
    func yubicoOTPCheck(_ device: DeviceRecord, otp: String) throws(MFAError) -> SignInRules.CodeCheck {
        let secret = try vault.open(device.sealedSecret, serial: device.serial)
        guard let publicID = try? Modhex.decode(device.serial),
            let token = try? YubicoOTP.validate(otp, secret: secret, publicID: publicID)
        else { return SignInRules.CodeCheck(match: nil, ignoringWatermark: nil) }
        let match = SignInRules.CodeMatch(step: token.counterValue, detail: "usage \(token.usageCounter) session \(token.sessionCounter)")
        return SignInRules.CodeCheck(match: token.counterValue > device.watermark ? match : nil, ignoringWatermark: match)
    }
}
