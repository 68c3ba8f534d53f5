/// An ISO 7816-4 status word (SW1 SW2).
public struct StatusWord: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ sw1: UInt8, _ sw2: UInt8) { rawValue = UInt16(sw1) << 8 | UInt16(sw2) }

    public var sw1: UInt8 { UInt8(rawValue >> 8) }
    public var sw2: UInt8 { UInt8(rawValue & 0xFF) }

    public static let success = StatusWord(rawValue: 0x9000)
    /// `6Cxx`/`61xx` family and others are checked with ``isMoreData``.
    public static let securityNotSatisfied = StatusWord(rawValue: 0x6982)
    public static let referenceDataNotUsable = StatusWord(rawValue: 0x6984)
    public static let conditionsNotSatisfied = StatusWord(rawValue: 0x6985)
    public static let wrongData = StatusWord(rawValue: 0x6A80)
    public static let fileNotFound = StatusWord(rawValue: 0x6A82)
    public static let notEnoughMemory = StatusWord(rawValue: 0x6A84)
    public static let wrongLength = StatusWord(rawValue: 0x6700)
    public static let wrongP1P2 = StatusWord(rawValue: 0x6B00)
    public static let insNotSupported = StatusWord(rawValue: 0x6D00)
    public static let claNotSupported = StatusWord(rawValue: 0x6E00)
    public static let memoryFailure = StatusWord(rawValue: 0x6581)
    public static let noPreciseDiagnosis = StatusWord(rawValue: 0x6F00)

    /// `61xx`: more response data is available (xx bytes; 00 means 256 or more).
    public var isMoreData: Bool { sw1 == 0x61 }
    public var isSuccess: Bool { self == .success }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}
