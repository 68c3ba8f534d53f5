import OTP

/// An error from the YubiKey OTP HID interface or typed-OTP capture (Yubico OTP decoding is in `OTP`:
/// ``OTP/YubicoOTP``, with `OTPError`).
/// Equality is on the code; the message names what went wrong but never key material.
public struct YubiOTPError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The USB transfer itself failed (see ``YubiOTPError/usb``).
        public static let usb = Code(rawValue: "usb")
        /// A response or status report failed its CRC check.
        public static let crcMismatch = Code(rawValue: "crc-mismatch")
        /// A feature report was shorter than 8 bytes, or a response shorter than expected.
        public static let shortReport = Code(rawValue: "short-report")
        /// The key kept its write flag set, or its response did not arrive in time.
        public static let timeout = Code(rawValue: "timeout")
        /// The key waited for a touch that did not come in time.
        public static let touchTimeout = Code(rawValue: "touch-timeout")
        /// The key did not accept a configuration (programming sequence unchanged: wrong access code,
        /// protected slot, or invalid record).
        public static let writeRejected = Code(rawValue: "write-rejected")
        /// A parameter the key cannot take (key length, digits, challenge size, ids).
        public static let invalidArgument = Code(rawValue: "invalid-argument")
        /// An answer that breaks the protocol.
        public static let unexpectedResponse = Code(rawValue: "unexpected-response")
        /// Typed-OTP capture ended without a complete line, or saw keys it cannot map.
        public static let captureFailed = Code(rawValue: "capture-failed")
        /// No supported USB token found.
        public static let noDevice = Code(rawValue: "no-device")
    }

    public let code: Code
    public let message: String
    /// The underlying libusb error, for ``Code/usb`` (and timeouts that came from libusb).
    public let usb: USBError?

    public init(_ code: Code, _ message: String, usb: USBError? = nil) {
        self.code = code
        self.message = message
        self.usb = usb
    }

    /// Wraps a libusb error; a vanished device keeps its libusb message.
    public init(_ error: USBError) {
        self.init(.usb, error.description, usb: error)
    }
}
