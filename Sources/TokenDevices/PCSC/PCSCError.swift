import CPCSCLite

/// A pcsc-lite error: the `LONG` result of a `SCard…` call, in the style of swift-system's `Errno`.
///
/// Every `SCARD_E_*`, `SCARD_W_*`, `SCARD_F_*` and `SCARD_P_*` code of pcsc-lite has a named constant
/// and a message for people ("no smart card service (pcscd) running: start pcscd", "card removed").
public struct PCSCError: Error, RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The pcsc-lite result code.
    public let rawValue: Int64
    /// What was being done, e.g. "connect to 'Virtual PCD 00 00'" (set by the wrapper).
    public let operation: String?

    public init(rawValue: Int64) {
        self.rawValue = rawValue
        self.operation = nil
    }

    public init(rawValue: Int64, operation: String?) {
        self.rawValue = rawValue
        self.operation = operation
    }

    /// The code's name, e.g. `SCARD_W_REMOVED_CARD`.
    public var name: String { Self.table(rawValue).name }
    /// A human message.
    public var message: String { Self.table(rawValue).message }

    public var description: String {
        let text = operation.map { "\($0): \(message)" } ?? message
        return "\(text) (\(name))"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// `SCARD_F_INTERNAL_ERROR`: internal error in the smart card service.
    public static let internalError = PCSCError(rawValue: 0x80100001)
    /// `SCARD_E_CANCELLED`: the operation was cancelled.
    public static let cancelled = PCSCError(rawValue: 0x80100002)
    /// `SCARD_E_INVALID_HANDLE`: invalid smart card handle (the connection was closed).
    public static let invalidHandle = PCSCError(rawValue: 0x80100003)
    /// `SCARD_E_INVALID_PARAMETER`: invalid parameter passed to the smart card service.
    public static let invalidParameter = PCSCError(rawValue: 0x80100004)
    /// `SCARD_E_INVALID_TARGET`: invalid target.
    public static let invalidTarget = PCSCError(rawValue: 0x80100005)
    /// `SCARD_E_NO_MEMORY`: the smart card service ran out of memory.
    public static let noMemory = PCSCError(rawValue: 0x80100006)
    /// `SCARD_F_WAITED_TOO_LONG`: the smart card service waited too long.
    public static let waitedTooLong = PCSCError(rawValue: 0x80100007)
    /// `SCARD_E_INSUFFICIENT_BUFFER`: the response does not fit the buffer.
    public static let insufficientBuffer = PCSCError(rawValue: 0x80100008)
    /// `SCARD_E_UNKNOWN_READER`: no such reader.
    public static let unknownReader = PCSCError(rawValue: 0x80100009)
    /// `SCARD_E_TIMEOUT`: timed out.
    public static let timeout = PCSCError(rawValue: 0x8010000A)
    /// `SCARD_E_SHARING_VIOLATION`: the card is in exclusive use by another program.
    public static let sharingViolation = PCSCError(rawValue: 0x8010000B)
    /// `SCARD_E_NO_SMARTCARD`: no card in the reader.
    public static let noSmartCard = PCSCError(rawValue: 0x8010000C)
    /// `SCARD_E_UNKNOWN_CARD`: unknown card.
    public static let unknownCard = PCSCError(rawValue: 0x8010000D)
    /// `SCARD_E_CANT_DISPOSE`: cannot dispose of the card.
    public static let cantDispose = PCSCError(rawValue: 0x8010000E)
    /// `SCARD_E_PROTO_MISMATCH`: the card does not speak the requested protocol (T=0/T=1).
    public static let protoMismatch = PCSCError(rawValue: 0x8010000F)
    /// `SCARD_E_NOT_READY`: the reader or card is not ready.
    public static let notReady = PCSCError(rawValue: 0x80100010)
    /// `SCARD_E_INVALID_VALUE`: invalid value.
    public static let invalidValue = PCSCError(rawValue: 0x80100011)
    /// `SCARD_E_SYSTEM_CANCELLED`: cancelled by the system.
    public static let systemCancelled = PCSCError(rawValue: 0x80100012)
    /// `SCARD_F_COMM_ERROR`: communication error with the smart card service.
    public static let commError = PCSCError(rawValue: 0x80100013)
    /// `SCARD_F_UNKNOWN_ERROR`: unknown error in the smart card service.
    public static let unknownError = PCSCError(rawValue: 0x80100014)
    /// `SCARD_E_INVALID_ATR`: the card sent an invalid ATR.
    public static let invalidATR = PCSCError(rawValue: 0x80100015)
    /// `SCARD_E_NOT_TRANSACTED`: the card transaction failed.
    public static let notTransacted = PCSCError(rawValue: 0x80100016)
    /// `SCARD_E_READER_UNAVAILABLE`: the reader is unavailable (unplugged?).
    public static let readerUnavailable = PCSCError(rawValue: 0x80100017)
    /// `SCARD_P_SHUTDOWN`: the smart card service is shutting down.
    public static let shutdown = PCSCError(rawValue: 0x80100018)
    /// `SCARD_E_PCI_TOO_SMALL`: protocol control information too small.
    public static let pciTooSmall = PCSCError(rawValue: 0x80100019)
    /// `SCARD_E_READER_UNSUPPORTED`: reader not supported.
    public static let readerUnsupported = PCSCError(rawValue: 0x8010001A)
    /// `SCARD_E_DUPLICATE_READER`: duplicate reader.
    public static let duplicateReader = PCSCError(rawValue: 0x8010001B)
    /// `SCARD_E_CARD_UNSUPPORTED`: card not supported.
    public static let cardUnsupported = PCSCError(rawValue: 0x8010001C)
    /// `SCARD_E_NO_SERVICE`: no smart card service (pcscd) running: start pcscd.
    public static let noService = PCSCError(rawValue: 0x8010001D)
    /// `SCARD_E_SERVICE_STOPPED`: the smart card service (pcscd) stopped.
    public static let serviceStopped = PCSCError(rawValue: 0x8010001E)
    /// `SCARD_E_UNEXPECTED`: unexpected smart card error.
    public static let unexpected = PCSCError(rawValue: 0x8010001F)
    /// `SCARD_E_UNSUPPORTED_FEATURE`: feature not supported by the smart card service.
    public static let unsupportedFeature = PCSCError(rawValue: 0x8010001F)
    /// `SCARD_E_ICC_INSTALLATION`: no primary provider for the card.
    public static let iccInstallation = PCSCError(rawValue: 0x80100020)
    /// `SCARD_E_ICC_CREATEORDER`: card creation order not supported.
    public static let iccCreateOrder = PCSCError(rawValue: 0x80100021)
    /// `SCARD_E_DIR_NOT_FOUND`: directory not found on the card.
    public static let dirNotFound = PCSCError(rawValue: 0x80100023)
    /// `SCARD_E_FILE_NOT_FOUND`: file not found on the card.
    public static let fileNotFound = PCSCError(rawValue: 0x80100024)
    /// `SCARD_E_NO_DIR`: not a directory.
    public static let noDir = PCSCError(rawValue: 0x80100025)
    /// `SCARD_E_NO_FILE`: not a file.
    public static let noFile = PCSCError(rawValue: 0x80100026)
    /// `SCARD_E_NO_ACCESS`: access denied.
    public static let noAccess = PCSCError(rawValue: 0x80100027)
    /// `SCARD_E_WRITE_TOO_MANY`: the card is full.
    public static let writeTooMany = PCSCError(rawValue: 0x80100028)
    /// `SCARD_E_BAD_SEEK`: bad seek on the card.
    public static let badSeek = PCSCError(rawValue: 0x80100029)
    /// `SCARD_E_INVALID_CHV`: invalid PIN.
    public static let invalidCHV = PCSCError(rawValue: 0x8010002A)
    /// `SCARD_E_UNKNOWN_RES_MNG`: unknown resource manager error.
    public static let unknownResourceManager = PCSCError(rawValue: 0x8010002B)
    /// `SCARD_E_NO_SUCH_CERTIFICATE`: no such certificate.
    public static let noSuchCertificate = PCSCError(rawValue: 0x8010002C)
    /// `SCARD_E_CERTIFICATE_UNAVAILABLE`: certificate unavailable.
    public static let certificateUnavailable = PCSCError(rawValue: 0x8010002D)
    /// `SCARD_E_NO_READERS_AVAILABLE`: no smart card readers found.
    public static let noReadersAvailable = PCSCError(rawValue: 0x8010002E)
    /// `SCARD_E_COMM_DATA_LOST`: communication data lost.
    public static let commDataLost = PCSCError(rawValue: 0x8010002F)
    /// `SCARD_E_NO_KEY_CONTAINER`: no key container.
    public static let noKeyContainer = PCSCError(rawValue: 0x80100030)
    /// `SCARD_E_SERVER_TOO_BUSY`: the smart card service is too busy.
    public static let serverTooBusy = PCSCError(rawValue: 0x80100031)
    /// `SCARD_W_UNSUPPORTED_CARD`: the card is not supported (bad ATR).
    public static let unsupportedCard = PCSCError(rawValue: 0x80100065)
    /// `SCARD_W_UNRESPONSIVE_CARD`: the card does not respond.
    public static let unresponsiveCard = PCSCError(rawValue: 0x80100066)
    /// `SCARD_W_UNPOWERED_CARD`: the card is not powered.
    public static let unpoweredCard = PCSCError(rawValue: 0x80100067)
    /// `SCARD_W_RESET_CARD`: the card was reset by another program.
    public static let resetCard = PCSCError(rawValue: 0x80100068)
    /// `SCARD_W_REMOVED_CARD`: card removed.
    public static let removedCard = PCSCError(rawValue: 0x80100069)
    /// `SCARD_W_SECURITY_VIOLATION`: security violation.
    public static let securityViolation = PCSCError(rawValue: 0x8010006A)
    /// `SCARD_W_WRONG_CHV`: wrong PIN.
    public static let wrongCHV = PCSCError(rawValue: 0x8010006B)
    /// `SCARD_W_CHV_BLOCKED`: PIN blocked.
    public static let chvBlocked = PCSCError(rawValue: 0x8010006C)
    /// `SCARD_W_EOF`: end of card file.
    public static let endOfFile = PCSCError(rawValue: 0x8010006D)
    /// `SCARD_W_CANCELLED_BY_USER`: cancelled by the user.
    public static let cancelledByUser = PCSCError(rawValue: 0x8010006E)
    /// `SCARD_W_CARD_NOT_AUTHENTICATED`: the card is not authenticated.
    public static let cardNotAuthenticated = PCSCError(rawValue: 0x8010006F)

    static func table(_ value: Int64) -> (name: String, message: String) {
        switch value {
        case 0x80100001: ("SCARD_F_INTERNAL_ERROR", "internal error in the smart card service")
        case 0x80100002: ("SCARD_E_CANCELLED", "the operation was cancelled")
        case 0x80100003: ("SCARD_E_INVALID_HANDLE", "invalid smart card handle (the connection was closed)")
        case 0x80100004: ("SCARD_E_INVALID_PARAMETER", "invalid parameter passed to the smart card service")
        case 0x80100005: ("SCARD_E_INVALID_TARGET", "invalid target")
        case 0x80100006: ("SCARD_E_NO_MEMORY", "the smart card service ran out of memory")
        case 0x80100007: ("SCARD_F_WAITED_TOO_LONG", "the smart card service waited too long")
        case 0x80100008: ("SCARD_E_INSUFFICIENT_BUFFER", "the response does not fit the buffer")
        case 0x80100009: ("SCARD_E_UNKNOWN_READER", "no such reader")
        case 0x8010000A: ("SCARD_E_TIMEOUT", "timed out")
        case 0x8010000B: ("SCARD_E_SHARING_VIOLATION", "the card is in exclusive use by another program")
        case 0x8010000C: ("SCARD_E_NO_SMARTCARD", "no card in the reader")
        case 0x8010000D: ("SCARD_E_UNKNOWN_CARD", "unknown card")
        case 0x8010000E: ("SCARD_E_CANT_DISPOSE", "cannot dispose of the card")
        case 0x8010000F: ("SCARD_E_PROTO_MISMATCH", "the card does not speak the requested protocol (T=0/T=1)")
        case 0x80100010: ("SCARD_E_NOT_READY", "the reader or card is not ready")
        case 0x80100011: ("SCARD_E_INVALID_VALUE", "invalid value")
        case 0x80100012: ("SCARD_E_SYSTEM_CANCELLED", "cancelled by the system")
        case 0x80100013: ("SCARD_F_COMM_ERROR", "communication error with the smart card service")
        case 0x80100014: ("SCARD_F_UNKNOWN_ERROR", "unknown error in the smart card service")
        case 0x80100015: ("SCARD_E_INVALID_ATR", "the card sent an invalid ATR")
        case 0x80100016: ("SCARD_E_NOT_TRANSACTED", "the card transaction failed")
        case 0x80100017: ("SCARD_E_READER_UNAVAILABLE", "the reader is unavailable (unplugged?)")
        case 0x80100018: ("SCARD_P_SHUTDOWN", "the smart card service is shutting down")
        case 0x80100019: ("SCARD_E_PCI_TOO_SMALL", "protocol control information too small")
        case 0x8010001A: ("SCARD_E_READER_UNSUPPORTED", "reader not supported")
        case 0x8010001B: ("SCARD_E_DUPLICATE_READER", "duplicate reader")
        case 0x8010001C: ("SCARD_E_CARD_UNSUPPORTED", "card not supported")
        case 0x8010001D: ("SCARD_E_NO_SERVICE", "no smart card service (pcscd) running: start pcscd")
        case 0x8010001E: ("SCARD_E_SERVICE_STOPPED", "the smart card service (pcscd) stopped")
        case 0x8010001F: ("SCARD_E_UNEXPECTED", "unexpected smart card error")
        case 0x80100020: ("SCARD_E_ICC_INSTALLATION", "no primary provider for the card")
        case 0x80100021: ("SCARD_E_ICC_CREATEORDER", "card creation order not supported")
        case 0x80100023: ("SCARD_E_DIR_NOT_FOUND", "directory not found on the card")
        case 0x80100024: ("SCARD_E_FILE_NOT_FOUND", "file not found on the card")
        case 0x80100025: ("SCARD_E_NO_DIR", "not a directory")
        case 0x80100026: ("SCARD_E_NO_FILE", "not a file")
        case 0x80100027: ("SCARD_E_NO_ACCESS", "access denied")
        case 0x80100028: ("SCARD_E_WRITE_TOO_MANY", "the card is full")
        case 0x80100029: ("SCARD_E_BAD_SEEK", "bad seek on the card")
        case 0x8010002A: ("SCARD_E_INVALID_CHV", "invalid PIN")
        case 0x8010002B: ("SCARD_E_UNKNOWN_RES_MNG", "unknown resource manager error")
        case 0x8010002C: ("SCARD_E_NO_SUCH_CERTIFICATE", "no such certificate")
        case 0x8010002D: ("SCARD_E_CERTIFICATE_UNAVAILABLE", "certificate unavailable")
        case 0x8010002E: ("SCARD_E_NO_READERS_AVAILABLE", "no smart card readers found")
        case 0x8010002F: ("SCARD_E_COMM_DATA_LOST", "communication data lost")
        case 0x80100030: ("SCARD_E_NO_KEY_CONTAINER", "no key container")
        case 0x80100031: ("SCARD_E_SERVER_TOO_BUSY", "the smart card service is too busy")
        case 0x80100065: ("SCARD_W_UNSUPPORTED_CARD", "the card is not supported (bad ATR)")
        case 0x80100066: ("SCARD_W_UNRESPONSIVE_CARD", "the card does not respond")
        case 0x80100067: ("SCARD_W_UNPOWERED_CARD", "the card is not powered")
        case 0x80100068: ("SCARD_W_RESET_CARD", "the card was reset by another program")
        case 0x80100069: ("SCARD_W_REMOVED_CARD", "card removed")
        case 0x8010006A: ("SCARD_W_SECURITY_VIOLATION", "security violation")
        case 0x8010006B: ("SCARD_W_WRONG_CHV", "wrong PIN")
        case 0x8010006C: ("SCARD_W_CHV_BLOCKED", "PIN blocked")
        case 0x8010006D: ("SCARD_W_EOF", "end of card file")
        case 0x8010006E: ("SCARD_W_CANCELLED_BY_USER", "cancelled by the user")
        case 0x8010006F: ("SCARD_W_CARD_NOT_AUTHENTICATED", "the card is not authenticated")
        default:
            ("SCARD_0x" + String(UInt32(truncatingIfNeeded: value), radix: 16, uppercase: true),
             "smart card error 0x" + String(UInt32(truncatingIfNeeded: value), radix: 16, uppercase: true))
        }
    }
}
