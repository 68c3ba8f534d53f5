import OTP

/// Input checks shared by every operation: names, digits, seeds.
public enum Validation {
    /// Longest user name, in Unicode scalars.
    public static let maximumUserNameScalars = 128
    /// Longest user name, in UTF-8 bytes (what the stores hold and compare).
    public static let maximumUserNameBytes = 256

    /// A user name: an identity, compared as bytes everywhere (``ByteKey``). 1–128 Unicode scalars
    /// and at most 256 UTF-8 bytes (bounded by what is stored, not by grapheme clusters, one of which
    /// can be kilobytes long); in Unicode Normalization Form C, so that two canonically equivalent
    /// spellings cannot be two users; no control or format characters; no leading or trailing space.
    /// Names that break the rule are refused, never rewritten: the caller decides what a name is.
    public static func userName(_ name: String) throws(MFAError) -> String {
        let scalars = name.unicodeScalars.count
        guard scalars >= 1, scalars <= maximumUserNameScalars, name.utf8.count <= maximumUserNameBytes else {
            throw MFAError(.invalidInput, "a user name needs 1 to \(maximumUserNameScalars) Unicode scalars and at most \(maximumUserNameBytes) UTF-8 bytes")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) else {
            throw MFAError(.invalidInput, "a user name must not contain control characters")
        }
        guard name.trimmingSpaces == name else {
            throw MFAError(.invalidInput, "a user name must not start or end with spaces")
        }
        guard name.isNFC else {
            throw MFAError(.invalidInput, "a user name must be in Unicode Normalization Form C (NFC): normalize it first (e.g. \"e\" + U+0301 is written U+00E9)")
        }
        return name
    }

    /// A Yubico OTP public id as a serial: exactly 12 modhex characters (`cbdefghijklnrtuv`).
    public static func publicID(_ text: String) throws(MFAError) -> String {
        guard text.utf8.count == 12, Modhex.isModhex(text) else {
            throw MFAError(.invalidInput, "a Yubico OTP public id is 12 modhex characters (cbdefghijklnrtuv)")
        }
        return text
    }

    /// A device serial: 1–64 characters of letters, digits and `-_.:`.
    public static func serial(_ serial: String) throws(MFAError) -> String {
        guard !serial.isEmpty, serial.count <= 64,
            serial.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0)) })
        else {
            throw MFAError(.invalidInput, "a serial needs 1 to 64 characters from A-Z a-z 0-9 - _ . :")
        }
        return serial
    }

    public static func digits(_ digits: Int) throws(MFAError) -> Int {
        guard (6...8).contains(digits) else { throw MFAError(.invalidInput, "digits must be 6, 7 or 8, got \(digits)") }
        return digits
    }

    /// Seeds below 80 bits are refused (RFC 4226 requires 128, recommends 160; real tokens ship 80).
    public static func seed(_ secret: OTPSecret) throws(MFAError) {
        guard secret.count >= 10 else {
            throw MFAError(.invalidInput, "the seed has \(secret.count * 8) bits; at least 80 are required")
        }
        let allZero = secret.withUnsafeBytes { $0.allSatisfy { $0 == 0 } }
        guard !allZero else { throw MFAError(.invalidInput, "the seed is all zeros") }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
