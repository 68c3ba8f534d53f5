import OTP
import Testing

@Suite("Base32 (RFC 4648) and hex")
struct Base32Tests {
    // RFC 4648 section 10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======"),
    ]

    @Test("RFC 4648 test vectors, encode and decode", arguments: vectors)
    func rfcVectors(plain: String, encoded: String) throws {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(try Base32.decode(encoded) == Array(plain.utf8))
        // Without padding, lowercase, grouped as apps print it.
        let unpadded = String(encoded.filter { $0 != "=" })
        #expect(try Base32.decode(unpadded.lowercased()) == Array(plain.utf8))
        #expect(Base32.encode(Array(plain.utf8), padding: false) == unpadded)
    }

    @Test("spaces and hyphens as authenticator apps print them are skipped")
    func grouping() throws {
        #expect(try Base32.decode("jbsw y3dp-ehpk 3pxp") == Base32.decode("JBSWY3DPEHPK3PXP"))
    }

    @Test("malformed Base32 names the problem")
    func malformed() {
        #expect(throws: OTPError(.invalidBase32, "")) { try Base32.decode("JBSW1") }
        do {
            _ = try Base32.decode("JBSW!Y3DP")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("'!'"))
            #expect(error.message.contains("position 5"))
        }
        #expect(throws: OTPError(.invalidBase32, "")) { try Base32.decode("MZ=XW6") }  // padding in the middle
        #expect(throws: OTPError(.invalidBase32, "")) { try Base32.decode("MZXW6Y") }  // 6 symbols cannot occur
        #expect(throws: OTPError(.invalidBase32, "")) { try Base32.decode("MZXW6YQ==") }  // wrong padding
    }

    @Test("hex round trip and errors")
    func hex() throws {
        #expect(try Hex.decode("00ff10Ab") == [0, 255, 16, 171])
        #expect(try Hex.decode("00:ff 10") == [0, 255, 16])
        #expect(Hex.encode([0, 255, 16, 171]) == "00ff10ab")
        #expect(throws: OTPError(.invalidHex, "")) { try Hex.decode("abc") }
        #expect(throws: OTPError(.invalidHex, "")) { try Hex.decode("zz") }
    }
}
