/// RFC 4648 Base32 (the alphabet `A–Z2–7`), as authenticator apps and `otpauth://` URIs use it.
///
/// Decoding is lenient where people are: letters in either case, padding optional, and the spaces
/// and hyphens that apps print to group the secret are skipped. Anything else is an error that
/// names the offending character and its position.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes bytes; `padding` adds `=` up to a multiple of 8 characters.
    public static func encode(_ bytes: some Collection<UInt8>, padding: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 4) / 5 * 8)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 0x1F)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1F)]) }
        if padding { while out.count % 8 != 0 { out.append(UInt8(ascii: "=")) } }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes Base32 text into bytes.
    public static func decode(_ text: String) throws(OTPError) -> [UInt8] {
        let count = try decodedCount(text)
        var result = [UInt8](repeating: 0, count: count)
        try result.withUnsafeMutableBufferPointer { (buffer) throws(OTPError) in try decode(text, into: buffer) }
        return result
    }

    /// Number of bytes `text` decodes to, after validating it.
    public static func decodedCount(_ text: String) throws(OTPError) -> Int {
        var symbols = 0
        var pads = 0
        for (position, byte) in text.utf8.enumerated() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\t") { continue }
            if byte == UInt8(ascii: "=") { pads += 1; continue }
            guard value(of: byte) != nil else {
                throw OTPError(.invalidBase32, "invalid Base32 character \(describe(byte)) at position \(position + 1)")
            }
            guard pads == 0 else {
                throw OTPError(.invalidBase32, "Base32 padding '=' in the middle of the text (position \(position + 1))")
            }
            symbols += 1
        }
        switch symbols % 8 {
        case 1, 3, 6:
            throw OTPError(
                .invalidBase32, "Base32 text has \(symbols) symbols; a length of \(symbols % 8) modulo 8 cannot occur")
        default: break
        }
        if pads > 0, (symbols + pads) % 8 != 0 || pads > 6 {
            throw OTPError(.invalidBase32, "Base32 padding is wrong: \(pads) '=' after \(symbols) symbols")
        }
        return symbols * 5 / 8
    }

    /// Decodes into a buffer of exactly ``decodedCount(_:)`` bytes.
    public static func decode(_ text: String, into buffer: UnsafeMutableBufferPointer<UInt8>) throws(OTPError) {
        let expected = try decodedCount(text)
        precondition(buffer.count == expected, "Base32.decode(_:into:) needs a buffer of decodedCount bytes")
        var accumulator: UInt64 = 0
        var bits = 0
        var index = 0
        for byte in text.utf8 {
            guard let v = value(of: byte) else { continue }
            accumulator = (accumulator << 5) | UInt64(v)
            bits += 5
            if bits >= 8 {
                buffer[index] = UInt8(truncatingIfNeeded: accumulator >> UInt64(bits - 8))
                index += 1
                bits -= 8
            }
        }
        accumulator = 0
    }

    @inline(__always)
    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): byte - UInt8(ascii: "2") + 26
        default: nil
        }
    }
}

/// Hexadecimal encoding of bytes (either case on input; spaces and colons between bytes skipped).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hexadecimal of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hexadecimal text into bytes.
    public static func decode(_ text: String) throws(OTPError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: try decodedCount(text))
        try result.withUnsafeMutableBufferPointer { (buffer) throws(OTPError) in try decode(text, into: buffer) }
        return result
    }

    /// Number of bytes `text` decodes to, after validating it.
    public static func decodedCount(_ text: String) throws(OTPError) -> Int {
        var nibbles = 0
        for (position, byte) in text.utf8.enumerated() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: ":") { continue }
            guard value(of: byte) != nil else {
                throw OTPError(.invalidHex, "invalid hexadecimal character \(describe(byte)) at position \(position + 1)")
            }
            nibbles += 1
        }
        guard nibbles % 2 == 0 else {
            throw OTPError(.invalidHex, "hexadecimal text has an odd number of digits (\(nibbles))")
        }
        return nibbles / 2
    }

    /// Decodes into a buffer of exactly ``decodedCount(_:)`` bytes.
    public static func decode(_ text: String, into buffer: UnsafeMutableBufferPointer<UInt8>) throws(OTPError) {
        let expected = try decodedCount(text)
        precondition(buffer.count == expected, "Hex.decode(_:into:) needs a buffer of decodedCount bytes")
        var high: UInt8? = nil
        var index = 0
        for byte in text.utf8 {
            guard let v = value(of: byte) else { continue }
            if let h = high {
                buffer[index] = h << 4 | v
                index += 1
                high = nil
            } else {
                high = v
            }
        }
    }

    @inline(__always)
    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A byte as shown in error messages: the printable character in quotes, or its code.
func describe(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "0x" + Hex.encode([byte])
}
