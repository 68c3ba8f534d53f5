import Foundation
import OTP
import QRCode
import TestSupport
import Testing

/// Our PNGs read back by a decoder nobody here wrote: zbarimg (ZBar, Debian zbar-tools).
@Suite("QR codes decoded by zbarimg")
struct ZbarRoundTripTests {
    @Test("a TOTP enrollment URI decodes back to exactly the same string")
    func totpURI() throws {
        let uri = try QRTestSupport.enrollmentURI()
        let text = uri.uriString
        #expect(text.hasPrefix("otpauth://totp/Example%20Corp:alice@example.com?secret="))
        #expect(text.hasSuffix("&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30"))
        let code = try QRCode(encoding: text)
        #expect(try QRTestSupport.zbarDecode(code) == text)
        // And the decoded text is still the same credential.
        let parsed = try OTPAuthURI(parsing: try QRTestSupport.zbarDecode(code))
        #expect(parsed.secret.constantTimeEquals(uri.secret))
        #expect(parsed.issuer == "Example Corp" && parsed.account == "alice@example.com")
    }

    @Test("a long URI: SHA-512, 64-byte secret, long issuer and account")
    func longURI() throws {
        let issuer = "Example Corporation International Holdings, Research & Development Division (EMEA)"
        let account = "alice.bartholomew-fitzgerald+security-keys.primary-account@engineering.example.com"
        let uri = try QRTestSupport.enrollmentURI(
            issuer: issuer, account: account, secretBytes: 64, algorithm: .sha512, digits: 8, period: 60)
        let text = uri.uriString
        #expect(text.utf8.count > 300)
        let code = try QRCode(encoding: text)
        #expect(code.version > 10)
        #expect(try QRTestSupport.zbarDecode(code) == text)
        #expect(try OTPAuthURI(parsing: text).secret.constantTimeEquals(uri.secret))
    }

    @Test("a URI with percent-encoded UTF-8 in the issuer and account")
    func percentEncodedUTF8() throws {
        let uri = try QRTestSupport.enrollmentURI(
            issuer: "Société Générale — 東京", account: "zoë.ñúñez@exämple.de", algorithm: .sha256)
        let text = uri.uriString
        #expect(text.contains("Soci%C3%A9t%C3%A9%20G%C3%A9n%C3%A9rale"))
        #expect(text.allSatisfy { $0.isASCII })
        let decoded = try QRTestSupport.zbarDecode(QRCode(encoding: text))
        #expect(decoded == text)
        let parsed = try OTPAuthURI(parsing: decoded)
        #expect(parsed.issuer == "Société Générale — 東京")
        #expect(parsed.account == "zoë.ñúñez@exämple.de")
    }

    @Test("an HOTP URI without issuer")
    func hotpURI() throws {
        let text = try QRTestSupport.enrollmentURI(type: .hotp, issuer: nil, account: "bob", counter: 123_456).uriString
        #expect(text.hasPrefix("otpauth://hotp/bob?secret="))
        #expect(try QRTestSupport.zbarDecode(QRCode(encoding: text)) == text)
    }

    @Test("every error correction level decodes; higher levels never make a smaller symbol",
          arguments: QRCode.ErrorCorrection.allCases)
    func errorCorrectionLevels(level: QRCode.ErrorCorrection) throws {
        let text = try QRTestSupport.enrollmentURI().uriString
        let code = try QRCode(encoding: text, errorCorrection: level)
        #expect(code.errorCorrection == level)
        #expect(try QRTestSupport.zbarDecode(code) == text)
        let lower = try QRCode(encoding: text, errorCorrection: .low)
        #expect(code.size >= lower.size)
    }

    // Not scale 1: zbar misses 1-pixel modules in most symbols (the PNG structure tests cover scale 1).
    @Test("small scale and quiet zone still decode", arguments: [(2, 4), (3, 2), (2, 2)])
    func smallScales(scale: Int, quietZone: Int) throws {
        let text = try QRTestSupport.enrollmentURI().uriString
        #expect(try QRTestSupport.zbarDecode(QRCode(encoding: text), scale: scale, quietZone: quietZone) == text)
    }

    @Test("the largest symbol (version 40) decodes")
    func version40() throws {
        // Lower-case letters are 8-bit mode only: 2953 of them fill version 40 at level L exactly.
        var rng = SeededGenerator(seed: SeededGenerator.seedFromEnvironment())
        let seed = rng.state
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let text = String((0..<2953).map { _ in letters.randomElement(using: &rng)! })
        let code = try QRCode(encoding: text, errorCorrection: .low)
        #expect(code.version == 40 && code.size == 177)
        #expect(try QRTestSupport.zbarDecode(code, scale: 4) == text, "seed \(seed)")
    }

    @Test("case is preserved (alphanumeric mode is only used for upper-case runs)")
    func casePreserved() throws {
        let text = "otpauth://totp/MiXeD:CaSe?secret=JBSWY3DPEHPK3PXP&issuer=MiXeD"
        #expect(try QRTestSupport.zbarDecode(QRCode(encoding: text)) == text)
    }

    @Test("raw (not percent-encoded) UTF-8 text survives (no ECI; zbar recognizes UTF-8)")
    func rawUTF8() throws {
        let text = "Société Générale: zoë — 東京 🔑"
        #expect(try QRTestSupport.zbarDecode(QRCode(encoding: text)) == text)
    }
}
