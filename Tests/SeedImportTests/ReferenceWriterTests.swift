import Foundation
import OTP
import SeedImport
import TestSupport
import Testing

/// Files written by python-pskc in every protection mode read back to the exact seeds and parameters,
/// and the codes of the read seeds match oathtool's for the known seeds.
@Suite("PSKC written by python-pskc")
struct ReferenceWriterTests {
    static let tokens = [
        PSKCReference.Token(serial: "PY-HOTP-1", seedHex: "3132333435363738393031323334353637383930", type: "hotp", digits: 6, counter: 7),
        PSKCReference.Token(serial: "PY-TOTP-1", seedHex: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", type: "totp", digits: 8, period: 60),
        PSKCReference.Token(
            serial: "PY-TOTP-256", seedHex: "3132333435363738393031323334353637383930313233343536373839303132", type: "totp", digits: 6, suite: "HMAC-SHA256"),
    ]
    static let psk128 = "000102030405060708090a0b0c0d0e0f"
    static let psk256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    static func protection(_ mode: PSKCReference.Mode) -> (secret: String?, protection: TransportProtection) {
        switch mode {
        case .plain: (nil, .none)
        case .psk, .keyWrap: (psk128, try! .preSharedKey(hex: psk128))
        case .pskAES256: (psk256, try! .preSharedKey(hex: psk256))
        case .pbkdf2: ("correct horse battery staple", .password("correct horse battery staple"))
        }
    }

    @Test("every protection mode reads back seeds, types, digits, counters, periods and suites", arguments: PSKCReference.Mode.allCases)
    func roundTrip(mode: PSKCReference.Mode) throws {
        let (secret, protection) = Self.protection(mode)
        let bytes = try PSKCReference.write(Self.tokens, mode: mode, secret: secret)
        let file = try SeedFileReader.read(bytes, protection: protection)
        #expect(file.protection == (mode == .plain ? "plaintext" : mode == .pbkdf2 ? "password" : "pre-shared-key"))
        #expect(file.entries.count == 3)
        for (token, entry) in zip(Self.tokens, file.entries) {
            #expect(entry.problem == nil, "\(entry.problem.map(String.init(describing:)) ?? "")")
            #expect(entry.serial == token.serial && entry.type?.rawValue == token.type && entry.digits == token.digits)
            #expect(entry.secret?.hexEncodedString() == token.seed_hex)
            if token.type == "hotp" { #expect(entry.counter == token.counter) } else { #expect(entry.period == token.period) }
            #expect(SeedChecks.check(entry, now: 1_700_000_000).rejection == nil)
        }
        #expect(SeedChecks.algorithm(of: file.entries[2]) == .sha256)
        // Codes from the read seed equal oathtool's from the known seed.
        let hotp = try HOTP(secret: try #require(file.entries[0].secret), digits: 6)
        let reference = try TestTools.run("oathtool", ["--hotp", "-c", "7", Self.tokens[0].seed_hex]).stdout.trimmingWhitespace
        #expect(hotp.code(counter: 7).description == reference)
        let totp = try TOTP(secret: try #require(file.entries[2].secret), algorithm: .sha256, digits: 6, period: 30)
        let totpReference = try TestTools.run("oathtool", ["--totp=sha256", "-N", "@1700000000", Self.tokens[2].seed_hex]).stdout.trimmingWhitespace
        #expect(try totp.code(at: 1_700_000_000).description == totpReference)
    }

    @Test("python-pskc files with the wrong transport key fail as a whole")
    func wrongKey() throws {
        let bytes = try PSKCReference.write(Self.tokens, mode: .pbkdf2, secret: "right")
        #expect(throws: SeedImportError(.wrongKey, "")) { try SeedFileReader.read(bytes, protection: .password("wrong")) }
        #expect(throws: SeedImportError(.keyRequired, "")) { try SeedFileReader.read(bytes) }
    }

    /// A wrong pre-shared key under which AES-CBC decryption of the file's encrypted MAC key still
    /// ends in valid PKCS#7 padding (about one key in 256), found by Python's `cryptography`.
    static func wrongKeyWithValidPadding(_ file: [UInt8]) throws -> String {
        let script = """
            import base64, re, sys
            from cryptography.hazmat.primitives import padding
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            text = sys.stdin.read()
            mac_key = re.search(r"MACKey>.*?CipherValue>([^<]+)<", text, re.S).group(1)
            blob = base64.b64decode(mac_key)
            for i in range(1, 100000):
                key = i.to_bytes(16, "big")
                decryptor = Cipher(algorithms.AES(key), modes.CBC(blob[:16])).decryptor()
                plain = decryptor.update(blob[16:]) + decryptor.finalize()
                unpadder = padding.PKCS7(128).unpadder()
                try:
                    unpadder.update(plain) + unpadder.finalize()
                except ValueError:
                    continue
                print(key.hex()); break
            """
        let result = try TestTools.run(try PSKCReference.interpreter(), ["-c", script], input: String(decoding: file, as: UTF8.self))
        let key = result.stdout.trimmingWhitespace
        try #require(result.status == 0 && key.count == 32, "\(result.stderr)")
        return key
    }

    @Test("a wrong key whose MAC-key padding happens to pass (1 in 256) still fails the file as a whole; one bad MAC alone is the key's")
    func wrongKeyValidPadding() throws {
        let bytes = try PSKCReference.write(Self.tokens, mode: .psk, secret: Self.psk128)
        let key = try Self.wrongKeyWithValidPadding(bytes)
        #expect(key != Self.psk128)
        let error = #expect(throws: SeedImportError.self) { try SeedFileReader.read(bytes, protection: try .preSharedKey(hex: key)) }
        #expect(error?.code == .wrongKey && error?.message.contains("ValueMAC") == true, "\(String(describing: error))")
        // One key in the file: a failed MAC cannot tell a wrong key from a tampered key; it is that key's problem.
        let single = try PSKCReference.write([Self.tokens[0]], mode: .psk, secret: Self.psk128)
        let singleKey = try Self.wrongKeyWithValidPadding(single)
        let file = try SeedFileReader.read(single, protection: try .preSharedKey(hex: singleKey))
        #expect(file.entries.count == 1 && file.entries[0].problem?.code == "bad-mac" && file.entries[0].secret == nil)
    }
}

extension String {
    var trimmingWhitespace: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
