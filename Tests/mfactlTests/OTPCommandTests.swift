import Foundation
import TestSupport
import Testing

/// `mfactl otp …` end to end: the built binary, its output, and its exit codes.
@Suite("mfactl otp")
struct OTPCommandTests {
    let mfactl = TestTools.product("mfactl")
    static let rfcHex = "3132333435363738393031323334353637383930"

    @Test("generate: RFC 6238 and RFC 4226 values, text and JSON")
    func generate() async throws {
        var r = try await TestTools.run(mfactl, ["otp", "generate", "--secret-hex", Self.rfcHex, "--time", "59", "--digits", "8"])
        #expect(r.status == 0 && r.stdout == "94287082\n")
        r = try await TestTools.run(mfactl, ["otp", "generate", "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--type", "hotp", "--counter", "9"])
        #expect(r.stdout == "520489\n")
        r = try await TestTools.run(mfactl, ["otp", "generate", "--secret-hex", Self.rfcHex, "--time", "1111111109", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["code"] as? String == "081804")
        #expect(object["step"] as? Int == 37_037_036)
        #expect(object["validForSeconds"] as? Int == 1)
    }

    @Test("generate without --time uses the current time (checked against oathtool at the bracketing times)")
    func now() async throws {
        let before = Int(Date().timeIntervalSince1970)
        let ours = try await TestTools.run(mfactl, ["otp", "generate", "--secret-hex", Self.rfcHex, "--algorithm", "sha256", "--digits", "7"])
        let after = Int(Date().timeIntervalSince1970)
        #expect(ours.status == 0)
        // The steps of `before` ... `after` (one or two): our code must be oathtool's for one of them.
        let steps = (after / 30) - (before / 30)
        let theirs = try await TestTools.run(
            "oathtool", ["--totp=sha256", "-d", "7", "-w", String(steps), "-N", "@\(before)", Self.rfcHex])
        #expect(theirs.status == 0)
        let codes = theirs.stdout.split(separator: "\n").map(String.init)
        #expect(codes.contains(ours.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "ours \(ours.stdout), oathtool \(codes)")
    }

    @Test("verify: exit 0 with the offset, exit 1 on no match, exit 2 on bad input")
    func verify() async throws {
        var r = try await TestTools.run(mfactl, ["otp", "verify", "--secret-hex", Self.rfcHex, "--type", "hotp", "--counter", "5", "--code", "520489"])
        #expect(r.status == 0 && r.stdout.contains("offset 4"))
        r = try await TestTools.run(mfactl, ["otp", "verify", "--secret-hex", Self.rfcHex, "--type", "hotp", "--counter", "5", "--code", "520489", "--window", "3"])
        #expect(r.status == 1 && r.stdout.contains("no match"))
        r = try await TestTools.run(mfactl, ["otp", "verify", "--secret-hex", Self.rfcHex, "--time", "89", "--code", "287082", "--json"])
        #expect(r.status == 0 && r.stdout.contains("\"offset\" : -1"))
        r = try await TestTools.run(mfactl, ["otp", "verify", "--secret-hex", Self.rfcHex, "--time", "89", "--code", "28708x"])
        #expect(r.status == 2 && r.stderr.contains("only the digits"))
        r = try await TestTools.run(mfactl, ["otp", "generate", "--secret", "ABC!"])
        #expect(r.status == 2 && r.stderr.contains("'!'") && !r.stderr.contains("ABC"))
        r = try await TestTools.run(mfactl, ["otp", "generate"])
        #expect(r.status != 0 && r.stderr.contains("--secret"))
    }

    @Test("uri make and parse; the secret stays hidden unless asked for")
    func uri() async throws {
        var r = try await TestTools.run(mfactl, ["otp", "uri", "make", "--account", "alice@example.com", "--issuer", "Example Corp", "--secret", "JBSWY3DPEHPK3PXP", "--digits", "8"])
        #expect(r.status == 0)
        let uri = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(uri == "otpauth://totp/Example%20Corp:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Corp&algorithm=SHA1&digits=8&period=30")
        r = try await TestTools.run(mfactl, ["otp", "uri", "parse", uri, "--json"])
        #expect(r.status == 0 && r.stdout.contains("\"issuer\" : \"Example Corp\"") && !r.stdout.contains("JBSWY3DP"))
        r = try await TestTools.run(mfactl, ["otp", "uri", "parse", uri, "--show-secret"])
        #expect(r.stdout.contains("JBSWY3DPEHPK3PXP"))
        r = try await TestTools.run(mfactl, ["otp", "uri", "parse", "otpauth://totp/x?secret=JBSWY3DP&digits=12"])
        #expect(r.status == 2 && r.stderr.contains("digits"))
        // A new random secret each time.
        let a = try await TestTools.run(mfactl, ["otp", "uri", "make", "--account", "a"]).stdout
        let b = try await TestTools.run(mfactl, ["otp", "uri", "make", "--account", "a"]).stdout
        #expect(a != b && a.hasPrefix("otpauth://totp/a?secret="))
    }
}
