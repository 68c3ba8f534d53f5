import OTP
import Testing

@Suite("Secrets never print")
struct SecretTests {
    @Test("description, debug description, dump and interpolation are redacted")
    func redacted() throws {
        let secret = try OTPSecret(base32: "JBSWY3DPEHPK3PXP")
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped] {
            #expect(!text.contains("JBSWY3DP"))
            #expect(!text.contains("48656c6c"))  // hex of the bytes ("Hello…")
            #expect(!text.contains("72"))  // first byte in decimal
        }
        #expect(secret.description.contains("redacted"))
        let key = OTPKey(secret: secret, algorithm: .sha1)
        #expect(key.description == "OTPKey(sha1, <redacted>)")
        let uri = try OTPAuthURI(parsing: "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=A")
        #expect(!uri.description.contains("JBSWY3DP"))
        #expect(uri.uriString.contains("JBSWY3DP"))
    }

    @Test("constant-time equality, random secrets, encodings")
    func equality() throws {
        let a = try OTPSecret(hex: "48656c6c6f21deadbeef")
        let b = try OTPSecret(base32: "JBSWY3DPEHPK3PXP")
        #expect(a.constantTimeEquals(b))
        #expect(!a.constantTimeEquals(try OTPSecret(hex: "48656c6c6f21deadbeee")))
        #expect(!a.constantTimeEquals(try OTPSecret(hex: "48656c6c6f21deadbe")))
        let r1 = OTPSecret.random(byteCount: 20)
        let r2 = OTPSecret.random(byteCount: 20)
        #expect(r1.count == 20)
        #expect(!r1.constantTimeEquals(r2))
        #expect(b.hexEncodedString() == "48656c6c6f21deadbeef")
        #expect(a.base32EncodedString() == "JBSWY3DPEHPK3PXP")
    }
}
