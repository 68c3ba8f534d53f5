import OTP

/// Constants of the YKOATH applet protocol (YubiKey 5, NEO, Nitrokey 3 "secrets app").
public enum OATHProtocol {
    /// The applet's AID.
    public static let aid: [UInt8] = [0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01]

    /// Instruction bytes.
    public enum Instruction {
        public static let put: UInt8 = 0x01
        public static let delete: UInt8 = 0x02
        public static let setCode: UInt8 = 0x03
        public static let reset: UInt8 = 0x04
        public static let rename: UInt8 = 0x05
        public static let list: UInt8 = 0xA1
        public static let calculate: UInt8 = 0xA2
        public static let validate: UInt8 = 0xA3
        /// CALCULATE ALL shares INS A4 with SELECT; P1 tells them apart (04 SELECT, 00 CALCULATE ALL).
        public static let calculateAll: UInt8 = 0xA4
        public static let select: UInt8 = 0xA4
        public static let sendRemaining: UInt8 = 0xA5
    }

    /// TLV tags.
    public enum Tag {
        public static let name: UInt8 = 0x71
        public static let nameListEntry: UInt8 = 0x72
        public static let key: UInt8 = 0x73
        public static let challenge: UInt8 = 0x74
        public static let response: UInt8 = 0x75
        public static let truncatedResponse: UInt8 = 0x76
        public static let hotpEntry: UInt8 = 0x77
        public static let property: UInt8 = 0x78
        public static let version: UInt8 = 0x79
        public static let initialMovingFactor: UInt8 = 0x7A
        public static let algorithm: UInt8 = 0x7B
        public static let touchEntry: UInt8 = 0x7C
    }

    /// Property byte values (sent as the bare pair `78 xx`, without a length byte).
    public enum Property {
        public static let onlyIncreasing: UInt8 = 0x01
        public static let requireTouch: UInt8 = 0x02
    }

    /// Longest credential id the applet stores.
    public static let maximumNameLength = 64
    /// Keys shorter than this are zero-padded (HMAC is unchanged by trailing zeros below the block size).
    public static let minimumKeyLength = 14
    /// PBKDF2 iterations for the password key.
    public static let passwordIterations = 1000

    /// The challenge of a TOTP step: `floor(time / period)` as 8 bytes big-endian.
    public static func timeChallenge(time: Int64, period: Int64) -> [UInt8] {
        let step = UInt64(max(0, time) / period)
        return (0..<8).map { UInt8(truncatingIfNeeded: step >> (56 - 8 * UInt64($0))) }
    }

    /// The password key: PBKDF2-HMAC-SHA1(password, salt, 1000, 16).
    public static func deriveKey(password: String, salt: [UInt8]) -> [UInt8] {
        LibCrypto.pbkdf2SHA1(password: password, salt: salt, iterations: passwordIterations, length: 16)
    }

    /// The code of a truncated response (`76 05 digits u32`): `(u32 & 0x7FFFFFFF) mod 10^digits`.
    public static func code(fromTruncated value: [UInt8]) throws(SmartcardError) -> OTPCode {
        guard value.count == 5 else {
            throw SmartcardError(.malformedResponse, "a truncated response has 5 bytes, got \(value.count)")
        }
        let digits = Int(value[0])
        guard (6...8).contains(digits) else {
            throw SmartcardError(.malformedResponse, "the card reported \(digits) digits; 6, 7 or 8 expected")
        }
        let raw = UInt32(value[1]) << 24 | UInt32(value[2]) << 16 | UInt32(value[3]) << 8 | UInt32(value[4])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        do { return try OTPCode(value: (raw & 0x7FFF_FFFF) % modulus, digits: digits) } catch {
            throw SmartcardError(.malformedResponse, error.message)
        }
    }
}

/// OATH credential type (high nibble of the type|algorithm byte).
public enum OATHType: String, Sendable, Hashable, CaseIterable {
    case hotp, totp

    public var nibble: UInt8 { self == .hotp ? 0x10 : 0x20 }
}

extension HashAlgorithm {
    /// The YKOATH algorithm nibble: SHA-1 1, SHA-256 2, SHA-512 3.
    public var oathNibble: UInt8 {
        switch self {
        case .sha1: 0x01
        case .sha256: 0x02
        case .sha512: 0x03
        }
    }

    /// The algorithm of a YKOATH type|algorithm byte, or nil.
    public init?(oathNibble: UInt8) {
        switch oathNibble & 0x0F {
        case 0x01: self = .sha1
        case 0x02: self = .sha256
        case 0x03: self = .sha512
        default: return nil
        }
    }
}

/// A credential id as the applet stores it: `[period/][issuer:]account` (the period only when not 30).
public struct OATHCredentialID: Sendable, Hashable, CustomStringConvertible {
    public var issuer: String?
    public var account: String
    public var period: Int64

    public init(issuer: String?, account: String, period: Int64 = 30) {
        self.issuer = issuer
        self.account = account
        self.period = period
    }

    /// Splits a stored id. For HOTP ids a leading `NN/` is part of the name.
    public init(parsing text: String, type: OATHType) {
        var rest = Substring(text)
        period = 30
        if type == .totp, let slash = rest.firstIndex(of: "/"), let value = Int64(rest[..<slash]), value > 0 {
            period = value
            rest = rest[rest.index(after: slash)...]
        }
        if let colon = rest.firstIndex(of: ":") {
            issuer = String(rest[..<colon])
            account = String(rest[rest.index(after: colon)...])
        } else {
            issuer = nil
            account = String(rest)
        }
    }

    /// The stored form.
    public func formatted(type: OATHType) -> String {
        var text = ""
        if type == .totp && period != 30 { text += "\(period)/" }
        if let issuer, !issuer.isEmpty { text += issuer + ":" }
        return text + account
    }

    public var description: String { formatted(type: .totp) }
}
