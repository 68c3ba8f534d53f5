/// A typed error from QR code generation: a stable ``Code`` that scripts can match on, and a message for people.
///
/// Same style as `OTPError`: the code set is extensible (new codes are new static members) and equality
/// compares codes only, so `error == QRCodeError(.tooLong)` matches whatever the message says.
/// Messages never contain the encoded text (an enrollment QR code carries a secret).
public struct QRCodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable, machine-readable identifier.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The text does not fit in the largest QR code (version 40) at the requested error correction level.
        public static let tooLong = Code(rawValue: "too-long")
        /// libqrencode could not encode the text (empty text, a NUL byte, out of memory, …).
        public static let encodingFailed = Code(rawValue: "encoding-failed")
        /// Writing an image file failed.
        public static let io = Code(rawValue: "io")
    }

    /// The machine-readable error code.
    public let code: Code
    /// A human-readable explanation naming what is wrong (never the encoded text).
    public let message: String

    /// Creates an error with a code and a message.
    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code.rawValue : message }

    public static func == (lhs: QRCodeError, rhs: QRCodeError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
