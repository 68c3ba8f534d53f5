/// The form of what a user typed as a code, judged before any device is looked at: 6 to 8 ASCII
/// digits (HOTP/TOTP) or 32 to 64 modhex characters (a Yubico OTP, one trailing newline allowed, as
/// a key types it). Anything else cannot be any device's code, so it is rejected without work and
/// not counted toward a lockout: a mistyped code is not a guess. Only the input is judged, so the
/// early answer tells nothing about the user.
public enum SignInCode: Sendable, Hashable {
    case digits(Int)
    case yubicoOTP

    /// The form of `code`, or nil when it has none a device could accept.
    public init?(_ code: String) {
        var bytes = Array(code.utf8)
        if bytes.last == 0x0A { bytes.removeLast(); if bytes.last == 0x0D { bytes.removeLast() } }
        if (6...8).contains(bytes.count), bytes.allSatisfy({ (0x30...0x39).contains($0) }) {
            self = .digits(bytes.count)
        } else if (32...64).contains(bytes.count), bytes.count % 2 == 0, bytes.allSatisfy({ Self.modhex.contains($0) }) {
            self = .yubicoOTP
        } else {
            return nil
        }
    }

    /// Whether a code of this form can be `device`'s.
    public func fits(_ device: DeviceRecord) -> Bool {
        switch self {
        case .digits(let count): !device.kind.isYubicoOTP && device.digits == count
        case .yubicoOTP: device.kind.isYubicoOTP
        }
    }

    /// The audit detail of a code no device of the user could accept (the code itself never).
    public static func malformedDetail(_ code: String) -> String {
        "malformed: \(code.utf8.count) bytes, not 6-8 digits or a Yubico OTP"
    }

    private static let modhex = Set("cbdefghijklnrtuv".utf8)
}
