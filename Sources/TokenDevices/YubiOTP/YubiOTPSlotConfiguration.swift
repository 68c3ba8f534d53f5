import OTP
/// A 52-byte slot configuration record: fixed part (16), uid (6), key (16), access code (6),
/// fixed size, extended/ticket/configuration flags, 2 reserved bytes and `~crc16` of the first 50.
///
/// Build one with ``hotp(key:digits:initialMovingFactor:)``, ``challengeResponseHMAC(key:requireTouch:)``
/// or ``yubicoOTP(publicID:privateID:key:)``; the record keeps key material, so it is not printable.
public struct YubiOTPSlotConfiguration: Sendable {
    /// Size of the record on the wire.
    public static let size = 52

    var fixed: [UInt8] = []
    var uid = [UInt8](repeating: 0, count: 6)
    var key = [UInt8](repeating: 0, count: 16)
    /// The access code the slot gets (all zero: none).
    public var newAccessCode = [UInt8](repeating: 0, count: 6)
    var extFlags: UInt8 = Flags.serialAPIVisible | Flags.allowUpdate
    var ticketFlags: UInt8 = 0
    var configFlags: UInt8 = 0
    /// What kind of slot this programs (for messages and the CLI).
    public let kind: Kind

    public enum Kind: String, Sendable, Codable {
        case hotp = "oath-hotp", challengeResponse = "hmac-sha1-challenge-response", yubicoOTP = "yubico-otp"
    }

    /// Flag bits of the record (ykcore `ykdef.h` names in comments).
    enum Flags {
        static let appendCR: UInt8 = 0x20  // TKT_FLAG_APPEND_CR
        static let oathHOTP: UInt8 = 0x40  // TKT_FLAG_OATH_HOTP
        static let challengeResponse: UInt8 = 0x40  // TKT_FLAG_CHAL_RESP
        static let oathHOTP8: UInt8 = 0x02  // CFG_FLAG_OATH_HOTP8
        static let challengeHMAC: UInt8 = 0x22  // CFG_FLAG_CHAL_HMAC
        static let hmacLessThan64: UInt8 = 0x04  // CFG_FLAG_HMAC_LT64
        static let challengeButton: UInt8 = 0x08  // CFG_FLAG_CHAL_BTN_TRIG
        static let serialAPIVisible: UInt8 = 0x04  // EXTFLAG_SERIAL_API_VISIBLE
        static let allowUpdate: UInt8 = 0x20  // EXTFLAG_ALLOW_UPDATE
    }

    init(kind: Kind) { self.kind = kind }

    /// Splits a 20-byte HMAC key the way the record stores it: key[0..16] in the key field,
    /// key[16..20] in uid[0..4].
    mutating func storeHMACKey(_ secret: [UInt8]) throws(YubiOTPError) {
        guard secret.count <= 20 else {
            throw YubiOTPError(.invalidArgument, "an HMAC-SHA1 key for a slot is at most 20 bytes, got \(secret.count)")
        }
        let padded = secret + [UInt8](repeating: 0, count: 20 - secret.count)
        key = Array(padded[0..<16])
        uid.replaceSubrange(0..<4, with: padded[16..<20])
    }

    /// OATH-HOTP (RFC 4226) typed on touch: `digits` 6 or 8, a key of up to 20 bytes, and the initial
    /// counter (a multiple of 16 up to 0xFFFF0; the key stores counter/16).
    public static func hotp(key: [UInt8], digits: Int = 6, initialMovingFactor: UInt32 = 0) throws(YubiOTPError) -> Self {
        guard digits == 6 || digits == 8 else { throw YubiOTPError(.invalidArgument, "HOTP digits must be 6 or 8, got \(digits)") }
        guard initialMovingFactor % 16 == 0, initialMovingFactor <= 0xFFFF0 else {
            throw YubiOTPError(.invalidArgument, "the initial moving factor must be a multiple of 16 up to 1048560, got \(initialMovingFactor)")
        }
        var config = Self(kind: .hotp)
        try config.storeHMACKey(key)
        let stored = UInt16(initialMovingFactor / 16)
        config.uid[4] = UInt8(stored >> 8)
        config.uid[5] = UInt8(stored & 0xFF)
        config.ticketFlags = Flags.oathHOTP | Flags.appendCR
        config.configFlags = digits == 8 ? Flags.oathHOTP8 : 0
        return config
    }

    /// HMAC-SHA1 challenge-response with a key of up to 20 bytes, variable-length challenges
    /// (HMAC_LT64), optionally only after a touch.
    public static func challengeResponseHMAC(key: [UInt8], requireTouch: Bool = false) throws(YubiOTPError) -> Self {
        var config = Self(kind: .challengeResponse)
        try config.storeHMACKey(key)
        config.ticketFlags = Flags.challengeResponse
        config.configFlags = Flags.challengeHMAC | Flags.hmacLessThan64 | (requireTouch ? Flags.challengeButton : 0)
        return config
    }

    /// Yubico OTP typed on touch: public id (0–16 bytes, usually 6, typed as modhex), private id
    /// (6 bytes, inside the encrypted block) and the AES-128 key.
    public static func yubicoOTP(publicID: [UInt8], privateID: [UInt8], key: [UInt8]) throws(YubiOTPError) -> Self {
        guard publicID.count <= 16 else { throw YubiOTPError(.invalidArgument, "the public id is at most 16 bytes, got \(publicID.count)") }
        guard privateID.count == 6 else { throw YubiOTPError(.invalidArgument, "the private id is 6 bytes, got \(privateID.count)") }
        guard key.count == 16 else { throw YubiOTPError(.invalidArgument, "the AES-128 key is 16 bytes, got \(key.count)") }
        var config = Self(kind: .yubicoOTP)
        config.fixed = publicID
        config.uid = privateID
        config.key = key
        config.ticketFlags = Flags.appendCR
        return config
    }

    /// The 52 record bytes, CRC included.
    public var bytes: [UInt8] {
        var record = fixed + [UInt8](repeating: 0, count: 16 - fixed.count)
        record += uid + key + newAccessCode
        record += [UInt8(fixed.count), extFlags, ticketFlags, configFlags, 0, 0]
        return record + YubiCRC.complementBytes(record)
    }
}
