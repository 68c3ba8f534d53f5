/// The status the OTP interface reports when idle: firmware version, programming sequence and which
/// slots are configured (the "touch level" word).
public struct YubiOTPStatus: Sendable, Hashable, Codable {
    public let firmwareMajor: UInt8
    public let firmwareMinor: UInt8
    public let firmwarePatch: UInt8
    /// Increments on every accepted configuration; 0 when no slot is configured.
    public let programmingSequence: UInt8
    /// Touch level word: bit 0 slot 1 configured, bit 1 slot 2 configured, bit 2/3 slot 1/2 needs touch.
    public let touchLevel: UInt16

    public init(firmwareMajor: UInt8, firmwareMinor: UInt8, firmwarePatch: UInt8, programmingSequence: UInt8, touchLevel: UInt16) {
        self.firmwareMajor = firmwareMajor
        self.firmwareMinor = firmwareMinor
        self.firmwarePatch = firmwarePatch
        self.programmingSequence = programmingSequence
        self.touchLevel = touchLevel
    }

    /// Parses an 8-byte feature report `[reserved, major, minor, patch, sequence, touch LE, flags]`.
    public init(report: [UInt8]) throws(YubiOTPError) {
        guard report.count >= 7 else {
            throw YubiOTPError(.shortReport, "the status report has \(report.count) bytes, expected 8")
        }
        self.init(
            firmwareMajor: report[1], firmwareMinor: report[2], firmwarePatch: report[3], programmingSequence: report[4],
            touchLevel: UInt16(report[5]) | UInt16(report[6]) << 8)
    }

    /// "5.4.3".
    public var firmware: String { "\(firmwareMajor).\(firmwareMinor).\(firmwarePatch)" }

    /// Whether `slot` holds a configuration.
    public func isConfigured(_ slot: YubiOTPSlot) -> Bool {
        touchLevel & (slot == .one ? 0x01 : 0x02) != 0
    }

    /// Whether `slot` is triggered by touch (configured and not challenge-response only).
    public func needsTouch(_ slot: YubiOTPSlot) -> Bool {
        touchLevel & (slot == .one ? 0x04 : 0x08) != 0
    }
}

/// The two configuration slots ("short press" 1, "long press" 2).
public enum YubiOTPSlot: Int, Sendable, Hashable, Codable, CaseIterable {
    case one = 1, two = 2

    /// Command byte to write a configuration.
    var configureCommand: UInt8 { self == .one ? 0x01 : 0x03 }
    /// Command byte for an HMAC-SHA1 challenge.
    var hmacCommand: UInt8 { self == .one ? 0x30 : 0x38 }
    /// Command byte for a Yubico OTP challenge.
    var otpChallengeCommand: UInt8 { self == .one ? 0x20 : 0x28 }
}
