import OTP
import Testing

/// Test vectors typed in from RFC 4226 Appendix D and RFC 6238 Appendix B.
@Suite("RFC test vectors")
struct RFCVectorTests {
    static let rfc4226Secret = Array("12345678901234567890".utf8)

    // RFC 4226 Appendix D: HMAC-SHA-1 values, truncated 31-bit values, and 6-digit HOTP values.
    static let rfc4226: [(counter: UInt64, hmac: String, truncated: UInt32, hotp: String)] = [
        (0, "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", 1_284_755_224, "755224"),
        (1, "75a48a19d4cbe100644e8ac1397eea747a2d33ab", 1_094_287_082, "287082"),
        (2, "0bacb7fa082fef30782211938bc1c5e70416ff44", 137_359_152, "359152"),
        (3, "66c28227d03a2d5529262ff016a1e6ef76557ece", 1_726_969_429, "969429"),
        (4, "a904c900a64b35909874b33e61c5938a8e15ed1c", 1_640_338_314, "338314"),
        (5, "a37e783d7b7233c083d4f62926c7a25f238d0316", 868_254_676, "254676"),
        (6, "bc9cd28561042c83f219324d3c607256c03272ae", 1_918_287_922, "287922"),
        (7, "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", 82_162_583, "162583"),
        (8, "1b3c89f65e6c9e883012052823443f048b4332db", 673_399_871, "399871"),
        (9, "1637409809a679dc698207310c8c7fc07290d9e5", 645_520_489, "520489"),
    ]

    @Test("RFC 4226 Appendix D: HMAC values and HOTP codes", arguments: rfc4226)
    func hotp(vector: (counter: UInt64, hmac: String, truncated: UInt32, hotp: String)) throws {
        let secret = try OTPSecret(bytes: Self.rfc4226Secret)
        let hotp = try HOTP(secret: secret, algorithm: .sha1, digits: 6)
        #expect(Hex.encode(hotp.key.hmac(counter: vector.counter)) == vector.hmac)
        #expect(hotp.code(counter: vector.counter).description == vector.hotp)
        // The 8-digit code is the truncated value mod 10^8.
        let hotp8 = try HOTP(secret: secret, algorithm: .sha1, digits: 8)
        #expect(hotp8.code(counter: vector.counter).value == vector.truncated % 100_000_000)
    }

    static let seeds: [HashAlgorithm: String] = [
        .sha1: "12345678901234567890",
        .sha256: "12345678901234567890123456789012",
        .sha512: "1234567890123456789012345678901234567890123456789012345678901234",
    ]

    // RFC 6238 Appendix B (8 digits, 30-second steps, T0 = 0).
    static let rfc6238: [(time: Int64, algorithm: HashAlgorithm, code: String)] = [
        (59, .sha1, "94287082"), (59, .sha256, "46119246"), (59, .sha512, "90693936"),
        (1_111_111_109, .sha1, "07081804"), (1_111_111_109, .sha256, "68084774"), (1_111_111_109, .sha512, "25091201"),
        (1_111_111_111, .sha1, "14050471"), (1_111_111_111, .sha256, "67062674"), (1_111_111_111, .sha512, "99943326"),
        (1_234_567_890, .sha1, "89005924"), (1_234_567_890, .sha256, "91819424"), (1_234_567_890, .sha512, "93441116"),
        (2_000_000_000, .sha1, "69279037"), (2_000_000_000, .sha256, "90698825"), (2_000_000_000, .sha512, "38618901"),
        (20_000_000_000, .sha1, "65353130"), (20_000_000_000, .sha256, "77737706"), (20_000_000_000, .sha512, "47863826"),
    ]

    @Test("RFC 6238 Appendix B: TOTP with SHA-1, SHA-256 and SHA-512", arguments: rfc6238)
    func totp(vector: (time: Int64, algorithm: HashAlgorithm, code: String)) throws {
        let secret = try OTPSecret(bytes: Array(Self.seeds[vector.algorithm]!.utf8))
        let totp = try TOTP(secret: secret, algorithm: vector.algorithm, digits: 8, period: 30)
        let code = try totp.code(at: vector.time)
        #expect(code.description == vector.code)
        // And the verifier accepts it at offset 0, and at ±1 step from the neighbouring steps.
        #expect(try totp.verify(code, at: vector.time, window: 0)?.offset == 0)
        #expect(try totp.verify(code, at: vector.time + 30, window: 1)?.offset == -1)
        if vector.time >= 30 {
            #expect(try totp.verify(code, at: vector.time - 30, window: 1)?.offset == 1)
        }
    }
}
