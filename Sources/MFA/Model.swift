import OTP

/// What kind of device a credential lives on.
public enum DeviceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A TOTP secret in an authenticator app (seed and QR shown once).
    case virtualTOTP = "virtual-totp"
    /// A hardware TOTP token with a vendor serial (seed from a seed file).
    case hardwareTOTP = "hardware-totp"
    /// A hardware HOTP token with a vendor serial.
    case hardwareHOTP = "hardware-hotp"
    /// A credential programmed into a smart card's OATH applet.
    case oathCard = "oath-card"
    /// An OATH-HOTP slot of a USB HID token (a YubiKey OTP slot types the code on touch): counter-based.
    case hidSlot = "hid-slot"
    /// A Yubico OTP slot of a USB HID token: 44 modhex characters per touch, AES-128 under the
    /// device's key. The serial is the token's public id (12 modhex characters); the sealed secret is
    /// the 16-byte AES key followed by the 6-byte private id; the replay watermark is
    /// `usage << 8 | session` of the last accepted OTP.
    case yubicoOTP = "yubico-otp"

    /// HOTP (counter) or TOTP (time) verification. Yubico OTP devices are neither (see ``isYubicoOTP``).
    public var isCounterBased: Bool { self == .hardwareHOTP || self == .hidSlot }

    /// Verified as Yubico OTPs (AES-128 block, counters), not as HOTP/TOTP codes.
    public var isYubicoOTP: Bool { self == .yubicoOTP }
}

/// The life of a device: `unassigned` (inventory) → `pending` → `active` ⇄ `locked`; `deactivated`.
public enum DeviceState: String, Sendable, Hashable, CaseIterable, Codable {
    case unassigned, pending, active, locked, deactivated

    /// The states' names, for messages ("unassigned, pending, active, locked or deactivated").
    public static var allNames: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// A device as stored. The secret is sealed (``SecretVault``); it is never part of a list or report.
public struct DeviceRecord: Sendable, Hashable {
    public var serial: String
    public var kind: DeviceKind
    public var owner: String?
    public var state: DeviceState
    public var algorithm: HashAlgorithm
    public var digits: Int
    /// TOTP step in seconds (0 for HOTP).
    public var period: Int64
    /// HOTP: the next expected counter. TOTP: unused (0).
    public var counter: Int64
    /// The last accepted counter or TOTP step; codes at or below it are replays. -1: none yet.
    public var watermark: Int64
    /// TOTP clock drift of the device, in steps (added to the current step before the window check).
    public var driftSteps: Int64
    /// The last drift estimates (bounded), newest last.
    public var driftHistory: [Int64]
    public var failureCount: Int
    /// How many times it has been locked since its last successful use (the lock delay doubles).
    public var lockouts: Int
    /// Unix time until which a lock holds (admins can unlock earlier).
    public var lockedUntil: Int64?
    public var createdAt: Int64
    public var enabledAt: Int64?
    public var lastUsedAt: Int64?
    /// AES-256-GCM sealed secret (see ``SecretVault``).
    public var sealedSecret: [UInt8]
    /// Bumped by every update; updates are compare-and-set on it.
    public var revision: Int64
    /// HMAC-SHA-256 of the seed under a key derived from the vault (``SeedFingerprinter``): finds
    /// duplicate seeds without comparing plaintext. Nil for devices stored before it existed.
    public var seedFingerprint: [UInt8]?

    public init(
        serial: String, kind: DeviceKind, owner: String?, state: DeviceState, algorithm: HashAlgorithm, digits: Int,
        period: Int64, counter: Int64, sealedSecret: [UInt8], createdAt: Int64
    ) {
        self.serial = serial
        self.kind = kind
        self.owner = owner
        self.state = state
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.counter = counter
        self.watermark = -1
        self.driftSteps = 0
        self.driftHistory = []
        self.failureCount = 0
        self.lockouts = 0
        self.lockedUntil = nil
        self.createdAt = createdAt
        self.enabledAt = nil
        self.lastUsedAt = nil
        self.sealedSecret = sealedSecret
        self.revision = 0
        self.seedFingerprint = nil
    }
}

/// Which devices an inventory listing shows.
public enum Assignment: String, Sendable, CaseIterable {
    case assigned, unassigned, any

    /// Whether `device` belongs to this filter.
    public func includes(_ device: DeviceRecord) -> Bool {
        switch self {
        case .assigned: device.owner != nil
        case .unassigned: device.owner == nil
        case .any: true
        }
    }
}

/// The rules of the service. Defaults follow what admins expect from AWS IAM MFA, tightened.
public struct Policy: Sendable, Hashable {
    /// Sign-in: TOTP steps either side of the device's drift-corrected step.
    public var totpWindow = 1
    /// Sign-in: HOTP counters accepted ahead of the expected one.
    public var hotpLookAhead = 10
    /// Enable/resync: TOTP steps searched either side of now (2 880 = ±24 h at 30 s).
    public var totpSyncWindow = 2_880
    /// Enable/resync: HOTP counters searched ahead.
    public var hotpSyncWindow = 10_000
    /// Consecutive failures that lock a device.
    public var lockoutThreshold = 10
    /// First lock duration in seconds; it doubles with each further lockout, up to `maximumLockSeconds`.
    public var baseLockSeconds: Int64 = 60
    public var maximumLockSeconds: Int64 = 86_400
    /// Seconds without a failure after which a device's failure count starts again from zero
    /// (`serve --lockout-decay`); 0: failures count until a success, an unlock or a resync.
    public var lockoutDecaySeconds: Int64 = 0
    /// Devices per user.
    public var maximumDevicesPerUser = 8
    /// Drift estimates kept per device.
    public var driftHistoryLength = 16
    /// Diagnoses of one device allowed per `diagnosePeriodSeconds`, for every caller (a technician
    /// with the user on the phone needs a handful; an attacker guessing codes needs hundreds).
    public var diagnoseLimit = 10
    public var diagnosePeriodSeconds: Int64 = 900
    /// Unlocks of one device a technician (not an admin) may do per `technicianUnlockPeriodSeconds`:
    /// each unlock clears the failure count, so without a bound it would undo the lockout.
    public var technicianUnlockLimit = 3
    public var technicianUnlockPeriodSeconds: Int64 = 86_400
    /// Seconds a pending Idempotency-Key claim holds before a retry of the same request may take it
    /// over (the first attempt's process died or its store call failed).
    public var idempotencyLeaseSeconds: Int64 = 10
    /// Seconds a pending device may wait to be enabled; then it expires and is deleted (audited
    /// `device.expire`), so abandoned enrollments never fill a user's device limit.
    public var pendingLifetimeSeconds: Int64 = 86_400
    /// Bytes of a generated virtual seed (160 bits, RFC 4226's recommendation).
    public var virtualSeedBytes = 20

    public init() {}

    /// The lock duration after the `lockouts`-th lockout (1-based).
    public func lockDuration(lockouts: Int) -> Int64 {
        let exponent = min(max(lockouts - 1, 0), 20)
        return min(baseLockSeconds << Int64(exponent), maximumLockSeconds)
    }
}

/// Input checks shared by every operation: names, digits, seeds.
public enum Validation {
    /// Longest user name, in Unicode scalars.
    public static let maximumUserNameScalars = 128
    /// Longest user name, in UTF-8 bytes (what the stores hold and compare).
    public static let maximumUserNameBytes = 256

    /// A user name: an identity, compared as bytes everywhere (``ByteKey``). 1–128 Unicode scalars
    /// and at most 256 UTF-8 bytes (bounded by what is stored, not by grapheme clusters, one of which
    /// can be kilobytes long); in Unicode Normalization Form C, so that two canonically equivalent
    /// spellings cannot be two users; no control or format characters; no leading or trailing space.
    /// Names that break the rule are refused, never rewritten: the caller decides what a name is.
    public static func userName(_ name: String) throws(MFAError) -> String {
        let scalars = name.unicodeScalars.count
        guard scalars >= 1, scalars <= maximumUserNameScalars, name.utf8.count <= maximumUserNameBytes else {
            throw MFAError(.invalidInput, "a user name needs 1 to \(maximumUserNameScalars) Unicode scalars and at most \(maximumUserNameBytes) UTF-8 bytes")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) else {
            throw MFAError(.invalidInput, "a user name must not contain control characters")
        }
        guard name.trimmingSpaces == name else {
            throw MFAError(.invalidInput, "a user name must not start or end with spaces")
        }
        guard name.isNFC else {
            throw MFAError(.invalidInput, "a user name must be in Unicode Normalization Form C (NFC): normalize it first (e.g. \"e\" + U+0301 is written U+00E9)")
        }
        return name
    }

    /// A Yubico OTP public id as a serial: exactly 12 modhex characters (`cbdefghijklnrtuv`).
    public static func publicID(_ text: String) throws(MFAError) -> String {
        guard text.utf8.count == 12, Modhex.isModhex(text) else {
            throw MFAError(.invalidInput, "a Yubico OTP public id is 12 modhex characters (cbdefghijklnrtuv)")
        }
        return text
    }

    /// A device serial: 1–64 characters of letters, digits and `-_.:`.
    public static func serial(_ serial: String) throws(MFAError) -> String {
        guard !serial.isEmpty, serial.count <= 64,
            serial.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0)) })
        else {
            throw MFAError(.invalidInput, "a serial needs 1 to 64 characters from A-Z a-z 0-9 - _ . :")
        }
        return serial
    }

    public static func digits(_ digits: Int) throws(MFAError) -> Int {
        guard (6...8).contains(digits) else { throw MFAError(.invalidInput, "digits must be 6, 7 or 8, got \(digits)") }
        return digits
    }

    /// Seeds below 80 bits are refused (RFC 4226 requires 128, recommends 160; real tokens ship 80).
    public static func seed(_ secret: OTPSecret) throws(MFAError) {
        guard secret.count >= 10 else {
            throw MFAError(.invalidInput, "the seed has \(secret.count * 8) bits; at least 80 are required")
        }
        let allZero = secret.withUnsafeBytes { $0.allSatisfy { $0 == 0 } }
        guard !allZero else { throw MFAError(.invalidInput, "the seed is all zeros") }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
