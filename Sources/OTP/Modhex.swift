/// Modhex: hex with the alphabet `cbdefghijklnrtuv`, chosen so the same key codes give the same
/// characters on most keyboard layouts (the YubiKey types it).
public enum Modhex {
    /// The 16 characters for nibbles 0…F.
    public static let alphabet: [Character] = Array("cbdefghijklnrtuv")

    /// Modhex text of `bytes`.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(alphabet[Int(byte >> 4)])
            text.append(alphabet[Int(byte & 0x0F)])
        }
        return text
    }

    /// Bytes of modhex `text` (case-insensitive). Throws ``OTPError/Code/invalidModhex``.
    public static func decode(_ text: String) throws(OTPError) -> [UInt8] {
        let characters = Array(text.lowercased())
        guard characters.count % 2 == 0 else {
            throw OTPError(.invalidModhex, "modhex text has an odd length (\(characters.count))")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = alphabet.firstIndex(of: characters[index]), let low = alphabet.firstIndex(of: characters[index + 1]) else {
                throw OTPError(.invalidModhex, "not modhex: character \(index + 1) is outside cbdefghijklnrtuv")
            }
            bytes.append(UInt8(high << 4 | low))
            index += 2
        }
        return bytes
    }

    /// Whether `text` is modhex (lowercase, even length, at least 2 characters): a public check, no decoding.
    public static func isModhex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count % 2 == 0 && text.unicodeScalars.allSatisfy { "cbdefghijklnrtuv".unicodeScalars.contains($0) }
    }
}
