import Foundation
import MFA
import OTP
import Testing

/// Canonically equivalent spellings of one text: equal as Swift `String`s, different as bytes (and
/// so two rows to SQLite and PostgreSQL). Each pair is (NFC, the other spelling).
enum EquivalentNames {
    static let pairs: [(nfc: String, other: String, what: String)] = [
        ("jos\u{E9}", "jose\u{301}", "combining acute (NFD)"),
        ("\u{C5}ngstr\u{F6}m", "\u{212B}ngstr\u{F6}m", "singleton decomposition (ANGSTROM SIGN)"),
        ("\u{D55C}", "\u{1112}\u{1161}\u{11AB}", "Hangul syllable vs conjoining jamo"),
        ("\u{1E69}", "s\u{307}\u{323}", "combining marks out of canonical order"),
    ]
}

@Suite("Identities: user names follow one rule, maps compare bytes")
struct IdentityRuleTests {
    @Test("the test pairs really are one String and two byte sequences")
    func pairsAreEquivalent() {
        for (nfc, other, what) in EquivalentNames.pairs {
            #expect(nfc == other, "\(what): Swift should consider these equal")
            #expect(Array(nfc.utf8) != Array(other.utf8), "\(what)")
        }
    }

    @Test("ByteKey: equivalent spellings are two keys in a dictionary and a set; equal bytes one")
    func byteKeys() {
        for (nfc, other, what) in EquivalentNames.pairs {
            #expect(ByteKey(nfc) != ByteKey(other), "\(what)")
            #expect(!nfc.hasSameBytes(as: other) && nfc.hasSameBytes(as: String(decoding: Array(nfc.utf8), as: UTF8.self)))
            let map = [ByteKey(nfc): 1, ByteKey(other): 2]
            #expect(map.count == 2 && map[ByteKey(nfc)] == 1 && map[ByteKey(other)] == 2, "\(what)")
            #expect(Set([ByteKey(nfc), ByteKey(other), ByteKey(nfc)]).count == 2, "\(what)")
            // The plain String map merges them: the reason ByteKey exists.
            var merged: [String: Int] = [:]
            merged[nfc] = 1
            merged[other] = 2
            #expect(merged.count == 1)
        }
        #expect(Optional("jos\u{E9}").hasSameBytes(as: "jos\u{E9}") && !Optional<String>.none.hasSameBytes(as: "a")
            && Optional<String>.none.hasSameBytes(as: nil) && !Optional("jos\u{E9}").hasSameBytes(as: "jose\u{301}"))
    }

    @Test("names in NFC pass; every other spelling is refused with invalid-input naming NFC")
    func nfcRule() throws {
        for (nfc, other, what) in EquivalentNames.pairs {
            #expect(try Validation.userName(nfc) == nfc, "\(what)")
            #expect {
                try Validation.userName(other)
            } throws: { error in
                let e = error as? MFAError
                return e?.code == .invalidInput && e?.message.contains("Normalization Form C (NFC)") == true
            }
        }
        for plain in ["alice", "alice smith", "用户", "a/b", "Zoë"] { #expect(try Validation.userName(plain) == plain) }
    }

    @Test("names are bounded by scalars and UTF-8 bytes, not grapheme clusters")
    func bounds() throws {
        func refused(_ name: String) -> Bool {
            do { _ = try Validation.userName(name); return false } catch { return error.code == .invalidInput && error.message.contains("UTF-8 bytes") }
        }
        // A grapheme bomb: one Character, 20 001 scalars, 40 001 bytes (NFC: x takes no grave).
        let bomb = "x" + String(repeating: "\u{300}", count: 20_000)
        #expect(bomb.count == 1)
        #expect(refused(bomb))
        #expect(try Validation.userName(String(repeating: "a", count: 128)).utf8.count == 128)
        #expect(refused(String(repeating: "a", count: 129)))
        // 85 three-byte characters are 255 bytes: in; 86 are 258: out (although only 86 scalars).
        #expect(try Validation.userName(String(repeating: "\u{20AC}", count: 85)).utf8.count == 255)
        #expect(refused(String(repeating: "\u{20AC}", count: 86)))
        #expect(refused(""))
    }
}
