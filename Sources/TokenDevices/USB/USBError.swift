import CLibUSB

/// A libusb error: the negative `libusb_error` result of a `libusb_…` call, in the style of
/// swift-system's `Errno` (and of ``PCSCError``).
///
/// Every `LIBUSB_ERROR_*` code has a named constant and a message for people; ``access`` tells how
/// to get permission ("install the udev rules …"). Equality is on the code only.
public struct USBError: Error, RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The libusb result code (negative).
    public let rawValue: Int32
    /// What was being done, e.g. "open 1050:0407 on bus 1 address 2" (set by the wrapper).
    public let operation: String?

    public init(rawValue: Int32) {
        self.rawValue = rawValue
        self.operation = nil
    }

    public init(rawValue: Int32, operation: String?) {
        self.rawValue = rawValue
        self.operation = operation
    }

    /// The same code with a different operation.
    func during(_ operation: String) -> USBError { USBError(rawValue: rawValue, operation: operation) }

    /// The code's name, e.g. `LIBUSB_ERROR_TIMEOUT`.
    public var name: String { Self.table(rawValue).name }
    /// A human message.
    public var message: String { Self.table(rawValue).message }

    public var description: String {
        let text = operation.map { "\($0): \(message)" } ?? message
        return "\(text) (\(name))"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// `LIBUSB_ERROR_IO`: input/output error.
    public static let io = USBError(rawValue: LIBUSB_ERROR_IO.rawValue)
    /// `LIBUSB_ERROR_INVALID_PARAM`: invalid parameter.
    public static let invalidParameter = USBError(rawValue: LIBUSB_ERROR_INVALID_PARAM.rawValue)
    /// `LIBUSB_ERROR_ACCESS`: permission denied (no udev rule for this device, or not in plugdev).
    public static let access = USBError(rawValue: LIBUSB_ERROR_ACCESS.rawValue)
    /// `LIBUSB_ERROR_NO_DEVICE`: the device is gone (unplugged).
    public static let noDevice = USBError(rawValue: LIBUSB_ERROR_NO_DEVICE.rawValue)
    /// `LIBUSB_ERROR_NOT_FOUND`: no such entity (interface, kernel driver, device).
    public static let notFound = USBError(rawValue: LIBUSB_ERROR_NOT_FOUND.rawValue)
    /// `LIBUSB_ERROR_BUSY`: the interface is claimed by another program or driver.
    public static let busy = USBError(rawValue: LIBUSB_ERROR_BUSY.rawValue)
    /// `LIBUSB_ERROR_TIMEOUT`: the operation timed out.
    public static let timeout = USBError(rawValue: LIBUSB_ERROR_TIMEOUT.rawValue)
    /// `LIBUSB_ERROR_OVERFLOW`: the device sent more data than asked for.
    public static let overflow = USBError(rawValue: LIBUSB_ERROR_OVERFLOW.rawValue)
    /// `LIBUSB_ERROR_PIPE`: the endpoint stalled (the device refused the request).
    public static let pipe = USBError(rawValue: LIBUSB_ERROR_PIPE.rawValue)
    /// `LIBUSB_ERROR_INTERRUPTED`: a system call was interrupted.
    public static let interrupted = USBError(rawValue: LIBUSB_ERROR_INTERRUPTED.rawValue)
    /// `LIBUSB_ERROR_NO_MEM`: out of memory.
    public static let noMemory = USBError(rawValue: LIBUSB_ERROR_NO_MEM.rawValue)
    /// `LIBUSB_ERROR_NOT_SUPPORTED`: not supported on this platform or by this device.
    public static let notSupported = USBError(rawValue: LIBUSB_ERROR_NOT_SUPPORTED.rawValue)
    /// `LIBUSB_ERROR_OTHER`: another error.
    public static let other = USBError(rawValue: LIBUSB_ERROR_OTHER.rawValue)
    /// The client was closed before the work could run (not a libusb code).
    public static let closed = USBError(rawValue: -1000)
    /// A transfer moved fewer bytes than the protocol needs (not a libusb code).
    public static let shortTransfer = USBError(rawValue: -1001)

    static func table(_ value: Int32) -> (name: String, message: String) {
        switch value {
        case LIBUSB_ERROR_IO.rawValue: ("LIBUSB_ERROR_IO", "input/output error")
        case LIBUSB_ERROR_INVALID_PARAM.rawValue: ("LIBUSB_ERROR_INVALID_PARAM", "invalid parameter")
        case LIBUSB_ERROR_ACCESS.rawValue:
            ("LIBUSB_ERROR_ACCESS",
             "permission denied: install the udev rules in udev/ (see Docs/usb.md) or run as a member of plugdev")
        case LIBUSB_ERROR_NO_DEVICE.rawValue: ("LIBUSB_ERROR_NO_DEVICE", "no such device (it may have been unplugged)")
        case LIBUSB_ERROR_NOT_FOUND.rawValue: ("LIBUSB_ERROR_NOT_FOUND", "not found (no such interface, driver or device)")
        case LIBUSB_ERROR_BUSY.rawValue:
            ("LIBUSB_ERROR_BUSY", "device or interface busy: another program or kernel driver holds it")
        case LIBUSB_ERROR_TIMEOUT.rawValue: ("LIBUSB_ERROR_TIMEOUT", "timed out")
        case LIBUSB_ERROR_OVERFLOW.rawValue: ("LIBUSB_ERROR_OVERFLOW", "the device sent more data than requested")
        case LIBUSB_ERROR_PIPE.rawValue: ("LIBUSB_ERROR_PIPE", "the device stalled the request (pipe error)")
        case LIBUSB_ERROR_INTERRUPTED.rawValue: ("LIBUSB_ERROR_INTERRUPTED", "interrupted")
        case LIBUSB_ERROR_NO_MEM.rawValue: ("LIBUSB_ERROR_NO_MEM", "out of memory")
        case LIBUSB_ERROR_NOT_SUPPORTED.rawValue: ("LIBUSB_ERROR_NOT_SUPPORTED", "operation not supported on this platform or device")
        case LIBUSB_ERROR_OTHER.rawValue: ("LIBUSB_ERROR_OTHER", "unknown USB error")
        case -1000: ("USB_CLOSED", "the USB client was closed")
        case -1001: ("USB_SHORT_TRANSFER", "the device answered with fewer bytes than expected")
        default: ("LIBUSB_\(value)", "USB error \(value)")
        }
    }

    /// Throws when `result` is a libusb error (negative); returns it otherwise (counts, lengths).
    @discardableResult
    static func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(USBError) -> Int32 {
        if result < 0 { throw USBError(rawValue: result, operation: operation()) }
        return result
    }
}
