import Foundation
import OTP
import SeedImport
import TestSupport
import Testing

/// The RFC 4226 test seed every RFC 6030 example carries.
let rfcSeedHex = Hex.encode(Array("12345678901234567890".utf8))

func read(_ text: String, _ protection: TransportProtection = .none, format: SeedFileFormat? = nil) throws(SeedImportError) -> SeedFile {
    try SeedFileReader.read(Array(text.utf8), format: format, protection: protection)
}

@Suite("PSKC: the RFC 6030 examples")
struct RFC6030Tests {
    func expectRFCKey(_ file: SeedFile, protection: String) throws {
        #expect(file.format == .pskc && file.protection == protection)
        #expect(file.entries.count == 1)
        let entry = try #require(file.entries.first)
        #expect(entry.problem == nil)
        #expect(entry.serial == "987654321" && entry.type == .hotp && entry.digits == 8 && entry.counter == 0)
        let secret = try #require(entry.secret)
        #expect(secret.hexEncodedString() == rfcSeedHex)
        // RFC 4226 appendix D: counter 0 gives 1284755224, so 8 digits are 84755224.
        #expect(try HOTP(secret: secret, digits: 8).code(counter: 0).description == "84755224")
        #expect(SeedChecks.check(entry, now: 1_700_000_000).rejection == nil)
    }

    @Test("Figure 2: plaintext")
    func plaintext() throws {
        let file = try read(RFC6030.plaintext)
        try expectRFCKey(file, protection: "plaintext")
        #expect(file.entries[0].manufacturer == "Manufacturer" && file.entries[0].keyID == "12345678")
        #expect(Hex.encode(file.fingerprint) == Hex.encode(LibCrypto.digest(.sha256, Array(RFC6030.plaintext.utf8))))
    }

    @Test("Figure 6: AES-128-CBC under a pre-shared key, HMAC-SHA1 MAC")
    func preSharedKey() throws {
        try expectRFCKey(try read(RFC6030.preSharedKey, try .preSharedKey(hex: RFC6030.preSharedKeyHex)), protection: "pre-shared-key")
    }

    @Test("Figure 7: PBKDF2 from a passphrase")
    func pbkdf2() throws {
        try expectRFCKey(try read(RFC6030.pbkdf2, .password(RFC6030.password)), protection: "password")
    }

    @Test("encrypted files without the key, with the wrong key or the wrong kind of key: typed errors")
    func wrongKeys() throws {
        #expect(throws: SeedImportError(.keyRequired, "")) { try read(RFC6030.preSharedKey) }
        #expect(throws: SeedImportError(.wrongKey, "")) { try read(RFC6030.preSharedKey, try .preSharedKey(hex: "00112233445566778899aabbccddeeff")) }
        #expect(throws: SeedImportError(.keyRequired, "")) { try read(RFC6030.preSharedKey, .password("qwerty")) }
        #expect(throws: SeedImportError(.keyRequired, "")) { try read(RFC6030.pbkdf2) }
        #expect(throws: SeedImportError(.wrongKey, "")) { try read(RFC6030.pbkdf2, .password("QWERTY")) }
        #expect(throws: SeedImportError(.invalidProtection, "")) { try TransportProtection.preSharedKey(hex: "1234") }
        // The messages never carry the key or the passphrase.
        do {
            _ = try read(RFC6030.pbkdf2, .password("hunter2-secret"))
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
    }

    @Test("a tampered ValueMAC or ciphertext rejects that key with a clear reason, nothing decrypted")
    func tamperedMAC() throws {
        let psk = try TransportProtection.preSharedKey(hex: RFC6030.preSharedKeyHex)
        let badMAC = RFC6030.preSharedKey.replacingOccurrences(of: "Su+NvtQfmvfJzF6bmQiJqoLRExc=", with: "Tu+NvtQfmvfJzF6bmQiJqoLRExc=")
        let entry = try #require(try read(badMAC, psk).entries.first)
        #expect(entry.problem?.code == "bad-mac" && entry.secret == nil)
        #expect(SeedChecks.check(entry, now: 0).rejection?.code == "bad-mac")
        let badCipher = RFC6030.preSharedKey.replacingOccurrences(of: "AAECAwQFBgcICQoLDA0OD+cI", with: "AAECAwQFBgcICQoLDA0OD+cJ")
        #expect(try read(badCipher, psk).entries.first?.problem?.code == "bad-mac")
    }
}

@Suite("PSKC: malformed and hostile files")
struct HostilePSKCTests {
    @Test("truncated files are malformed XML")
    func truncated() {
        for cut in [40, 300, RFC6030.plaintext.utf8.count / 2, RFC6030.plaintext.utf8.count - 20] {
            let text = String(decoding: Array(RFC6030.plaintext.utf8).prefix(cut), as: UTF8.self)
            #expect(throws: SeedImportError(.malformedXML, "")) { try read(text) }
        }
    }

    @Test("a wrong namespace or root is not PSKC")
    func wrongNamespace() {
        let other = RFC6030.plaintext.replacingOccurrences(of: "urn:ietf:params:xml:ns:keyprov:pskc", with: "urn:example:not-pskc")
        #expect(throws: SeedImportError(.notPSKC, "")) { try read(other) }
        #expect(throws: SeedImportError(.notPSKC, "")) { try read("<html><body>hello</body></html>") }
        #expect(throws: SeedImportError(.notPSKC, "")) {
            try read(RFC6030.plaintext.replacingOccurrences(of: "Version=\"1.0\"", with: "Version=\"2.0\""))
        }
    }

    @Test("billion laughs and external entities are refused, not expanded")
    func entities() {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
              <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
              <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
              <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
              <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
              <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
            ]>
            <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><SerialNo>&lol9;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>
            """
        #expect(throws: SeedImportError(.forbiddenXML, "")) { try read(laughs) }
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE KeyContainer [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><SerialNo>&xxe;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>
            """
        #expect(throws: SeedImportError(.forbiddenXML, "")) { try read(external) }
        // Without a declaration, an entity reference is simply undefined: malformed.
        let undeclared = RFC6030.plaintext.replacingOccurrences(of: "<SerialNo>987654321</SerialNo>", with: "<SerialNo>&xxe;</SerialNo>")
        #expect(throws: SeedImportError.self) { try read(undeclared) }
    }

    @Test("10 MB of junk: a typed error, quickly")
    func junk() throws {
        var generator = SeededGenerator(seed: 7)
        let junk = (0..<(10 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let started = ContinuousClock.now
        #expect(throws: SeedImportError(.unknownFormat, "")) { try SeedFileReader.read(junk) }
        #expect(throws: SeedImportError(.malformedXML, "")) { try SeedFileReader.read(junk, format: .pskc) }
        #expect(throws: SeedImportError(.malformedCSV, "")) { try SeedFileReader.read(junk, format: .csv) }
        // Text junk that starts like XML but never becomes a container.
        let textJunk = Array(("<" + String(repeating: "junk ", count: 2 << 20)).utf8)
        #expect(throws: SeedImportError(.malformedXML, "")) { try SeedFileReader.read(textJunk) }
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("elements with absurd amounts of text are refused (memory stays bounded)")
    func hugeText() {
        let huge = RFC6030.plaintext.replacingOccurrences(of: "<SerialNo>987654321</SerialNo>", with: "<SerialNo>" + String(repeating: "9", count: 200_000) + "</SerialNo>")
        #expect(throws: SeedImportError(.malformedXML, "")) { try read(huge) }
    }

    @Test("empty containers and empty files")
    func empty() {
        #expect(throws: SeedImportError(.empty, "")) { try read(#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>"#) }
        #expect(throws: SeedImportError(.empty, "")) { try SeedFileReader.read([UInt8]()) }
    }
}

@Suite("PSKC: large files, keys decoded on several cores")
struct ManyKeysPSKCTests {
    @Test("1 000 encrypted keys come back in file order, each with its own seed, its own problem and its own extra")
    func order() throws {
        let psk = LibCrypto.randomBytes(16)
        let writer = PSKCWriter(preSharedKey: psk)
        let tokens = (1...1000).map { i in
            PSKCWriter.Token(serial: "ORDER\(i)", type: i % 3 == 0 ? .hotp : .totp, seed: LibCrypto.randomBytes(20), digits: i % 2 == 0 ? 8 : 6)
        }
        var packages = tokens.map(writer.package)
        // Package 613's ValueMAC is damaged (one Base64 character changed).
        let mac = try #require(packages[612].range(of: "<pskc:ValueMAC>"))
        let first = packages[612][mac.upperBound]
        packages[612].replaceSubrange(mac.upperBound...mac.upperBound, with: first == "A" ? "B" : "A")
        let bytes = Array((writer.header() + packages.joined() + writer.footer()).utf8)

        let (file, extras) = try SeedFileReader.read(bytes, format: .pskc, protection: .preSharedKey(psk)) { entry in
            "\(entry.position):\(entry.serial ?? "-")"
        }
        #expect(file.entries.count == 1000 && extras.count == 1000)
        for (i, entry) in file.entries.enumerated() {
            let token = tokens[i]
            #expect(entry.position == i + 1 && entry.serial == token.serial && extras[i] == "\(i + 1):\(token.serial)")
            #expect(entry.type == token.type && entry.digits == token.digits)
            if i == 612 {
                #expect(entry.problem?.code == "bad-mac" && entry.secret == nil)
            } else {
                #expect(entry.problem == nil && entry.secret?.hexEncodedString() == Hex.encode(token.seed))
            }
        }
        #expect(file.protection == "pre-shared-key")
        // Without the key, the file stops at its first encrypted value, before any key is decoded.
        #expect(throws: SeedImportError(.keyRequired, "")) { try SeedFileReader.read(bytes, format: .pskc) }
    }
}

@Suite("PSKC: text as XML writes it")
struct XMLTextPSKCTests {
    @Test("character references, predefined entities and CDATA are read as the text they stand for")
    func references() throws {
        let text = RFC6030.plaintext
            .replacingOccurrences(of: "<SerialNo>987654321</SerialNo>", with: "<SerialNo>9876&#x35;4321</SerialNo>")
            .replacingOccurrences(of: "<Manufacturer>Manufacturer</Manufacturer>", with: "<Manufacturer>A&amp;B &#65;&lt;</Manufacturer>")
            .replacingOccurrences(of: "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", with: "<![CDATA[MTIzNDU2Nzg5MDEy]]>MzQ1Njc4OTA=")
        #expect(text.contains("9876&#x35;4321") && text.contains("A&amp;B") && text.contains("<![CDATA[MTIz"))
        let entry = try #require(try read(text).entries.first)
        #expect(entry.serial == "987654321" && entry.manufacturer == "A&B A<")
        #expect(entry.problem == nil && entry.secret?.hexEncodedString() == rfcSeedHex)
    }
}
