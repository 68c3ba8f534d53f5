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
