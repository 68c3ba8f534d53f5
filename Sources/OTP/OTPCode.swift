import CConstantTime

/// A one-time code: `digits` decimal digits, leading zeros significant.
///
/// Parsing does not branch on the digits themselves; only "all digits or not" becomes public.
/// `description` prints the zero-padded code (a code is not a long-term secret, but the service
/// never logs it).
public struct OTPCode: Sendable, Hashable, CustomStringConvertible {
    /// The numeric value, below 10^digits.
    public let value: UInt32
    /// Number of digits (6, 7 or 8).
    public let digits: Int

    /// A code from its numeric value. Throws when `value` does not fit `digits`.
    public init(value: UInt32, digits: Int) throws(OTPError) {
        try OTPCode.checkDigits(digits)
        guard value < DigitsModulus(digits: digits).modulus else {
            throw OTPError(.invalidCode, "a \(digits)-digit code must be below \(DigitsModulus(digits: digits).modulus)")
        }
        self.value = value
        self.digits = digits
    }

    @usableFromInline
    init(unchecked value: UInt32, digits: Int) {
        self.value = value
        self.digits = digits
    }

    /// Parses exactly `digits` decimal digits (spaces, as in "123 456", are skipped).
    public init(parsing text: String, digits: Int) throws(OTPError) {
        try OTPCode.checkDigits(digits)
        let bytes = text.utf8.filter { $0 != UInt8(ascii: " ") }
        guard bytes.count == digits else {
            throw OTPError(.invalidCode, "the code must have exactly \(digits) digits, got \(bytes.count) characters")
        }
        var value: UInt32 = 0
        var invalid: UInt32 = 0
        for byte in bytes {
            let d = Int32(byte) &- 48
            invalid |= UInt32(bitPattern: d | (9 &- d)) >> 31
            value = value &* 10 &+ (UInt32(bitPattern: d) & (invalid &- 1))
        }
        guard ConstantTime.declassify(invalid) == 0 else {
            throw OTPError(.invalidCode, "the code must contain only the digits 0-9")
        }
        self.value = value
        self.digits = digits
    }

    /// The zero-padded decimal code.
    public var description: String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func checkDigits(_ digits: Int) throws(OTPError) {
        guard (6...8).contains(digits) else {
            throw OTPError(.invalidDigits, "digits must be 6, 7 or 8, got \(digits)")
        }
    }
}
