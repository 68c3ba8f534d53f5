/// A typed error from the OTP core: a stable ``Code`` that scripts can match on, and a message for people.
///
/// Modelled on swift-system's `Errno` and swift-subprocess's error structs: the code set is extensible
/// (new codes are new static members) and equality compares codes only, so
/// `error == OTPError(.invalidBase32)` matches whatever the message says.
/// Messages never contain secret material.
public struct OTPError: CodedError {
    /// What went wrong, as a stable, machine-readable identifier.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A Base32 string (RFC 4648) that cannot be decoded.
        public static let invalidBase32 = Code(rawValue: "invalid-base32")
        /// A hexadecimal string that cannot be decoded.
        public static let invalidHex = Code(rawValue: "invalid-hex")
        /// A secret with no bytes.
        public static let emptySecret = Code(rawValue: "empty-secret")
        /// A hash algorithm name that is not sha1, sha256 or sha512.
        public static let invalidAlgorithm = Code(rawValue: "invalid-algorithm")
        /// A number of digits outside 6...8.
        public static let invalidDigits = Code(rawValue: "invalid-digits")
        /// A TOTP period that is not a positive number of seconds.
        public static let invalidPeriod = Code(rawValue: "invalid-period")
        /// A time or TOTP step that cannot be used (before 1970, or out of range).
        public static let invalidTime = Code(rawValue: "invalid-time")
        /// A counter that cannot be used.
        public static let invalidCounter = Code(rawValue: "invalid-counter")
        /// A window size that is negative or too large.
        public static let invalidWindow = Code(rawValue: "invalid-window")
        /// A one-time code that is not exactly `digits` decimal digits.
        public static let invalidCode = Code(rawValue: "invalid-code")
        /// An `otpauth://` URI that is malformed.
        public static let invalidURI = Code(rawValue: "invalid-uri")
        /// An `otpauth://` URI without a required parameter.
        public static let missingParameter = Code(rawValue: "missing-parameter")
        /// An `otpauth://` URI parameter with a value that cannot be used.
        public static let invalidParameter = Code(rawValue: "invalid-parameter")
        /// An OTP type other than `totp` or `hotp`.
        public static let unsupportedType = Code(rawValue: "unsupported-type")
        /// Modhex text with characters outside `cbdefghijklnrtuv`, or of odd or wrong length.
        public static let invalidModhex = Code(rawValue: "invalid-modhex")
        /// A Yubico OTP key or id of the wrong size (AES-128 key 16 bytes, private id 6 bytes).
        public static let invalidKey = Code(rawValue: "invalid-key")
        /// A Yubico OTP whose decrypted block fails the CRC (wrong AES key, or corrupted).
        public static let otpCRCMismatch = Code(rawValue: "otp-crc-mismatch")
        /// A Yubico OTP that decrypted correctly but belongs to another private id.
        public static let privateIDMismatch = Code(rawValue: "private-id-mismatch")
        /// A Yubico OTP with a different public id than expected.
        public static let publicIDMismatch = Code(rawValue: "public-id-mismatch")
        /// A Yubico OTP whose (usage, session) counters do not exceed the last accepted ones.
        public static let replayed = Code(rawValue: "replayed")
    }

    /// The machine-readable error code.
    public let code: Code
    /// A human-readable explanation naming what is wrong (never secret material).
    public let message: String

    /// Creates an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

}
