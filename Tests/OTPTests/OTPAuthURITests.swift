import OTP
import TestSupport
import Testing

@Suite("otpauth:// Key URIs")
struct OTPAuthURITests {
    @Test("the Key-Uri-Format example parses")
    func example() throws {
        let uri = try OTPAuthURI(parsing: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        #expect(uri.type == .totp)
        #expect(uri.issuer == "Example")
        #expect(uri.account == "alice@google.com")
        #expect(uri.algorithm == .sha1 && uri.digits == 6 && uri.period == 30)
        #expect(uri.secret.hexEncodedString() == "48656c6c6f21deadbeef")
    }

    @Test("percent-encoding, parameters and defaults")
    func parameters() throws {
        let uri = try OTPAuthURI(
            parsing: "otpauth://hotp/ACME%20Co%3A%20john.doe%40email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&algorithm=SHA512&digits=8&counter=42&image=x")
        #expect(uri.type == .hotp && uri.issuer == "ACME Co" && uri.account == "john.doe@email.com")
        #expect(uri.algorithm == .sha512 && uri.digits == 8 && uri.counter == 42)
    }

    @Test("make then parse round-trips every field")
    func roundTrip() throws {
        let secret = OTPSecret.random(byteCount: 32)
        for type in OTPType.allCases {
            let made = try OTPAuthURI(
                type: type, issuer: "Big & Co/Ops", account: "bob smith+ops@example.com", secret: secret,
                algorithm: .sha256, digits: 7, period: 60, counter: 99)
            let parsed = try OTPAuthURI(parsing: made.uriString)
            #expect(parsed.type == type && parsed.issuer == "Big & Co/Ops" && parsed.account == "bob smith+ops@example.com")
            #expect(parsed.algorithm == .sha256 && parsed.digits == 7)
            #expect(parsed.secret.constantTimeEquals(secret))
            if type == .totp { #expect(parsed.period == 60) } else { #expect(parsed.counter == 99) }
        }
    }

    static let malformed: [(String, OTPError.Code)] = [
        ("https://totp/a?secret=JBSWY3DP", .invalidURI),
        ("otpauth://motp/a?secret=JBSWY3DP", .unsupportedType),
        ("otpauth://totp/a?issuer=x", .missingParameter),
        ("otpauth://totp/a?secret=JBSW1", .invalidBase32),
        ("otpauth://totp/a?secret=JBSWY3DP&digits=9", .invalidParameter),
        ("otpauth://totp/a?secret=JBSWY3DP&period=-30", .invalidParameter),
        ("otpauth://totp/a?secret=JBSWY3DP&algorithm=MD5", .invalidParameter),
        ("otpauth://hotp/a?secret=JBSWY3DP", .missingParameter),
        ("otpauth://hotp/a?secret=JBSWY3DP&counter=-1", .invalidParameter),
        ("otpauth://totp/A:b?secret=JBSWY3DP&issuer=B", .invalidParameter),
        ("otpauth://totp/a?secret=JBSWY3DP&secret=JBSWY3DP", .invalidParameter),
        ("otpauth://totp/a%2?secret=JBSWY3DP", .invalidURI),
        ("otpauth://totp/a%0A?secret=JBSWY3DP", .invalidURI),
        ("otpauth://totp/?secret=JBSWY3DP", .invalidURI),
        ("otpauth://totp", .invalidURI),
        // A second colon: the account would read back as another issuer and account (found by fuzzing).
        ("otpauth://hotp/:CM~E%20Co:john?secret=GEZDGNBVGY3TQOJQ&counter=7", .invalidParameter),
        ("otpauth://totp/Example:alice%3Ax?secret=JBSWY3DP", .invalidParameter),
    ]

    @Test("an account name with ':' is refused when made, since it cannot be read back")
    func colonInAccount() throws {
        let secret = try OTPSecret(base32: "JBSWY3DPEHPK3PXP")
        #expect(throws: OTPError(.invalidParameter, "")) { try OTPAuthURI(type: .totp, issuer: nil, account: "a:b", secret: secret) }
        #expect(throws: OTPError(.invalidParameter, "")) { try OTPAuthURI(type: .totp, issuer: "Example", account: "a:b", secret: secret) }
    }

    @Test("malformed URIs give the right typed error", arguments: malformed)
    func errors(text: String, code: OTPError.Code) {
        #expect(throws: OTPError(code, "")) { try OTPAuthURI(parsing: text) }
    }

    @Test("pyotp parses our URIs, and we parse pyotp's")
    func pyotpInterop() throws {
        let secret = try OTPSecret(base32: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        let ours = try OTPAuthURI(
            type: .totp, issuer: "Example Corp", account: "alice@example.com", secret: secret, algorithm: .sha256,
            digits: 8, period: 60)
        let script = """
            import sys, pyotp
            t = pyotp.parse_uri(sys.stdin.readline().strip())
            print(t.issuer, "|", t.name, "|", t.secret, "|", t.digits, "|", t.interval, "|", t.digest().name, sep="")
            print(pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DP", issuer="Acme Inc", name="bob@acme.test", digits=7).provisioning_uri())
            """
        let result = try TestTools.run("python3", ["-c", script], input: ours.uriString + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "pyotp printed: \(result.stdout)")
        #expect(lines.first == "Example Corp|alice@example.com|JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP|8|60|sha256")
        let theirs = try OTPAuthURI(parsing: lines[1])
        #expect(theirs.issuer == "Acme Inc" && theirs.account == "bob@acme.test" && theirs.digits == 7)
        #expect(theirs.secret.base32EncodedString() == "JBSWY3DPEHPK3PXPJBSWY3DP")
    }
}
