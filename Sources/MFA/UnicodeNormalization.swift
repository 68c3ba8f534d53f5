import Foundation

extension String {
    /// Whether the string is already in Unicode Normalization Form C, byte for byte. ASCII text
    /// always is; anything else is compared with its NFC form (Foundation's canonical mapping,
    /// ICU underneath), since two spellings that differ only in normalization are one string to
    /// Swift but two to the stores.
    var isNFC: Bool {
        if utf8.allSatisfy({ $0 < 0x80 }) { return true }
        return precomposedStringWithCanonicalMapping.hasSameBytes(as: self)
    }
}
