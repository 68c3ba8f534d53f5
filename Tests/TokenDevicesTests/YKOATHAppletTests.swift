import OTP
import Testing
import TokenDevices
import VirtualTokens

/// The applet at the APDU byte level, against RFC 4226/6238 vectors, the OTP module and recorded
/// ykman traffic.
@Suite("YKOATH applet: commands")
struct YKOATHAppletTests {
    // MARK: SELECT

    @Test("SELECT of the OATH AID answers version 5.4.3 and the 8-byte salt")
    func selectAnswer() {
        let card = TestCard()
        let answer = card.select()
        #expect(answer.sw == 0x9000)
        #expect(answer.data.count == 5 + 10)
        #expect(Array(answer.data.prefix(7)) == bytes("79 03 05 04 03 71 08"))
        #expect(Array(answer.data.suffix(8)) == card.applet.state.salt)
        // The salt is stable across SELECTs and power cycles (it is the host's PBKDF2 salt).
        card.applet.powerCycle()
        #expect(card.select() == answer)
    }

    @Test("ykman's probes of other applets get 6A82; a 5-byte A1 with Lc=00 is LIST")
    func foreignSelects() {
        let card = TestCard()
        let probes = [
            "00 a4 04 00 08 a0 00 00 05 27 47 11 17", "00 a4 04 00 07 a0 00 00 05 27 20 01",
            "00 a4 04 00 08 a0 00 00 06 47 2f 00 01", "00 a4 04 00 07 a0 00 00 05 27 10 02",
            "00 a4 04 00 05 a0 00 00 03 08", "00 a4 04 00 06 d2 76 00 01 24 01",
        ]
        for probe in probes { #expect(card.send(bytes(probe)).sw == 0x6A82) }
        // Nothing selected: OATH instructions are unknown.
        #expect(card.send(bytes("00 a1 00 00 00")).sw == 0x6D00)
        card.select()
        #expect(card.send(bytes("00 a1 00 00 00")) == Answer([0x90, 0x00]))
        // A foreign SELECT deselects OATH.
        card.send(bytes(probes[0]))
        #expect(card.send(bytes("00 a1 00 00 00")).sw == 0x6D00)
    }

    @Test("a version override is reported instead of the state's")
    func versionOverride() {
        let card = TestCard(.init(versionOverride: [4, 3, 7]))
        #expect(Array(card.select().data.prefix(5)) == bytes("79 03 04 03 07"))
    }

    // MARK: PUT / LIST / CALCULATE

    /// RFC 6238 Appendix B: (time, algorithm, expected 8-digit code).
    static let rfc6238: [(Int64, HashAlgorithm, String)] = [
        (59, .sha1, "94287082"), (59, .sha256, "46119246"), (59, .sha512, "90693936"),
        (1_111_111_109, .sha1, "07081804"), (1_111_111_109, .sha256, "68084774"), (1_111_111_109, .sha512, "25091201"),
        (1_234_567_890, .sha1, "89005924"), (1_234_567_890, .sha256, "91819424"), (1_234_567_890, .sha512, "93441116"),
        (2_000_000_000, .sha1, "69279037"), (2_000_000_000, .sha256, "90698825"), (2_000_000_000, .sha512, "38618901"),
        (20_000_000_000, .sha1, "65353130"), (20_000_000_000, .sha256, "77737706"), (20_000_000_000, .sha512, "47863826"),
    ]

    static let rfcSeeds: [HashAlgorithm: String] = [
        .sha1: "12345678901234567890",
        .sha256: "12345678901234567890123456789012",
        .sha512: "1234567890123456789012345678901234567890123456789012345678901234",
    ]

    @Test("PUT then CALCULATE (truncated) gives the RFC 6238 TOTP codes", arguments: rfc6238)
    func totpVectors(vector: (Int64, HashAlgorithm, String)) throws {
        let (time, algorithm, expected) = vector
        let card = TestCard()
        card.select()
        let seed = Array(Self.rfcSeeds[algorithm]!.utf8)
        #expect(card.put("rfc", algorithm: algorithm.oathNibble, digits: 8, key: seed).sw == 0x9000)
        let answer = card.calculate("rfc", challenge: challenge(UInt64(time / 30)))
        #expect(answer.sw == 0x9000)
        #expect(codeString(fromTruncated: answer.data) == expected)
        // The OTP module agrees.
        let totp = try TOTP(secret: OTPSecret(bytes: seed), algorithm: algorithm, digits: 8)
        #expect(try totp.code(at: time).description == expected)
    }

    @Test("ykman's recorded PUT of JBSWY3DPEHPK3PXP and its CALCULATE ALL answer")
    func recordedTraffic() throws {
        let card = TestCard()
        card.select()
        #expect(card.send(bytes("00 01 00 00 18 71 04 74657374 73 10 21 06 48656c6c6f21deadbeef00000000")).sw == 0x9000)
        #expect(card.send(bytes("00 a1 00 00 00")) == Answer(bytes("72 05 21 74 65 73 74 90 00")))
        // Recorded: challenge 0391 2235 answered 76 05 06 e7 f6 aa f3 (ykman showed 218867).
        let answer = card.send(bytes("00 a4 00 01 0a 74 08 00 00 00 00 03 91 22 35"))
        #expect(answer.sw == 0x9000)
        let elements = try #require(splitTLVs(answer.data))
        #expect(elements.count == 2)
        #expect(elements[0].tag == 0x71 && elements[0].value == Array("test".utf8))
        #expect(codeString(fromTruncated: tlv(elements[1].tag, elements[1].value)) == "218867")
        let totp = try TOTP(secret: OTPSecret(base32: "JBSWY3DPEHPK3PXP"), digits: 6)
        #expect(totp.code(step: 0x0391_2235).description == "218867")
    }

    /// RFC 4226 Appendix D: HMAC-SHA-1 of counters 0...9 with "12345678901234567890".
    static let rfc4226HMAC = [
        "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", "75a48a19d4cbe100644e8ac1397eea747a2d33ab",
        "0bacb7fa082fef30782211938bc1c5e70416ff44", "66c28227d03a2d5529262ff016a1e6ef76557ece",
        "a904c900a64b35909874b33e61c5938a8e15ed1c", "a37e783d7b7233c083d4f62926c7a25f238d0316",
        "bc9cd28561042c83f219324d3c607256c03272ae", "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa",
        "1b3c89f65e6c9e883012052823443f048b4332db", "1637409809a679dc698207310c8c7fc07290d9e5",
    ]
    static let rfc4226Codes = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

    @Test("CALCULATE with P2=00 answers 75 15 digits + the full HMAC (RFC 4226 values)")
    func fullResponse() {
        let card = TestCard()
        card.select()
        card.put("full", digits: 6, key: Array("12345678901234567890".utf8))
        for (counter, mac) in Self.rfc4226HMAC.enumerated() {
            let answer = card.calculate("full", challenge: challenge(UInt64(counter)), truncated: false)
            #expect(answer == Answer(bytes("75 15 06") + bytes(mac) + [0x90, 0x00]))
        }
    }

    @Test("HOTP: the empty challenge 74 00 is ignored; the counter starts at 7A and advances")
    func hotpCounter() {
        let card = TestCard()
        card.select()
        #expect(card.put("hot", type: 0x10, key: Array("12345678901234567890".utf8), counter: 5).sw == 0x9000)
        for counter in 5...9 {
            let answer = card.calculate("hot", challenge: [])
            #expect(codeString(fromTruncated: answer.data) == Self.rfc4226Codes[counter])
        }
        #expect(card.applet.state.credentials.first?.counter == 10)
        // Without 7A the counter starts at 0; the exact recorded ykman APDU (74 00) works.
        card.put("hot", type: 0x10, key: Array("12345678901234567890".utf8))
        let answer = card.send(bytes("00 a2 00 01 07 71 03 68 6f 74 74 00"))
        #expect(codeString(fromTruncated: answer.data) == "755224")
    }

    @Test("ykman's HOTP example: counter 5 of JBSWY3DPEHPK3PXP gives 768897")
    func hotpRecorded() throws {
        let card = TestCard()
        card.select()
        #expect(card.send(bytes("00 01 00 00 1d 71 03 686f74 73 10 11 06 48656c6c6f21deadbeef00000000 7a 04 00 00 00 05")).sw == 0x9000)
        let answer = card.send(bytes("00 a2 00 01 07 71 03 68 6f 74 74 00"))
        #expect(codeString(fromTruncated: answer.data) == "768897")
        let hotp = try HOTP(secret: OTPSecret(base32: "JBSWY3DPEHPK3PXP"))
        #expect(hotp.code(counter: 5).description == "768897")
    }

    @Test("CALCULATE ALL: TOTP 76 05, HOTP 77 01 digits (no counter step), touch 7C 01 digits")
    func calculateAll() throws {
        let card = TestCard()
        card.select()
        let seed = Array("12345678901234567890".utf8)
        card.put("totp", digits: 8, key: seed)
        card.put("hotp", type: 0x10, digits: 7, key: seed, counter: 3)
        card.put("touch", algorithm: 0x02, digits: 8, key: seed, touch: true)
        let answer = card.send(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(59 / 30))))
        #expect(answer.sw == 0x9000)
        let elements = try #require(splitTLVs(answer.data))
        #expect(elements.map(\.tag) == [0x71, 0x76, 0x71, 0x77, 0x71, 0x7C])
        #expect(elements.filter { $0.tag == 0x71 }.map(\.value) == ["totp", "hotp", "touch"].map { Array($0.utf8) })
        #expect(codeString(fromTruncated: tlv(0x76, elements[1].value)) == "94287082")
        #expect(elements[3].value == [7])
        #expect(elements[5].value == [8])
        #expect(card.applet.state.credentials[1].counter == 3)
        // P2=00: full responses for TOTP.
        let full = card.send(apdu(0xA4, 0x00, 0x00, tlv(0x74, challenge(0))))
        let fullElements = try #require(splitTLVs(full.data))
        #expect(fullElements[1].tag == 0x75 && fullElements[1].value == [8] + bytes(Self.rfc4226HMAC[0]))
        // Without a challenge: wrong syntax.
        #expect(card.send(apdu(0xA4, 0x00, 0x01)).sw == 0x6A80)
    }

    @Test("PUT: `78 02` without a length byte, followed by 7A, stores touch and counter")
    func bareProperty() throws {
        let card = TestCard()
        card.select()
        let seed = Array("12345678901234567890".utf8)
        let data = tlv(0x71, Array("h".utf8)) + tlv(0x73, [0x11, 0x06] + seed) + [0x78, 0x02] + bytes("7a 04 00 00 00 02")
        #expect(card.send(apdu(0x01, 0, 0, data)).sw == 0x9000)
        let stored = try #require(card.applet.state.credentials.first)
        #expect(stored.requireTouch)
        #expect(stored.counter == 2)
        #expect(stored.type == .hotp && stored.algorithm == .sha1 && stored.digits == 6 && stored.key == seed)
        // The recorded ykman PUT with touch at the end (TOTP, SHA-256, 8 digits).
        #expect(card.send(bytes("00 01 00 00 19 71 03 746368 73 10 22 08 48656c6c6f21deadbeef00000000 78 02")).sw == 0x9000)
        #expect(card.applet.state.credentials.last?.requireTouch == true)
        // `78` with its value byte missing is malformed.
        #expect(card.send(apdu(0x01, 0, 0, tlv(0x71, [0x41]) + tlv(0x73, [0x21, 0x06] + seed) + [0x78])).sw == 0x6A80)
    }

    @Test("PUT overwrites an existing name; limits and bad fields answer 6A84 / 6A80")
    func putRules() {
        let card = TestCard(.init(credentialLimit: 3))
        card.select()
        let key = Array(repeating: UInt8(0x11), count: 14)
        card.put("a", key: key)
        card.put("a", type: 0x10, digits: 8, key: key)
        #expect(card.applet.state.credentials.count == 1)
        #expect(card.applet.state.credentials[0].type == .hotp)
        #expect(card.put(String(repeating: "n", count: 64), key: key).sw == 0x9000)
        #expect(card.put(String(repeating: "n", count: 65), key: key).sw == 0x6A80)
        #expect(card.put("c", key: key).sw == 0x9000)
        #expect(card.put("d", key: key).sw == 0x6A84)
        #expect(card.put("a", key: key).sw == 0x9000)  // overwriting needs no room
        #expect(card.put("e", type: 0x30, key: key).sw == 0x6A80)
        #expect(card.put("e", algorithm: 0x04, key: key).sw == 0x6A80)
        #expect(card.put("e", digits: 9, key: key).sw == 0x6A80)
        #expect(card.send(apdu(0x01, 0, 0, tlv(0x71, [0x41]))).sw == 0x6A80)  // no key
        #expect(card.send(apdu(0x01, 0, 0, bytes("71 05 41"))).sw == 0x6A80)  // truncated TLV
        #expect(card.applet.state.credentials.count == 3)
    }

    @Test("a SHA-512 key of 128 bytes travels with an 81 length")
    func longKey() {
        let card = TestCard()
        card.select()
        let key = (0..<128).map { UInt8($0) }
        #expect(card.put("long", algorithm: 0x03, key: key).sw == 0x9000)
        #expect(card.applet.state.credentials.first?.key == key)
        #expect(card.put("toolong", algorithm: 0x01, key: key).sw == 0x6A80)  // over SHA-1's block
    }

    // MARK: DELETE / RENAME

    @Test("RENAME takes two 71 tags in order; missing 6984, taken 6A80")
    func rename() {
        let card = TestCard()
        card.select()
        let key = Array(repeating: UInt8(1), count: 14)
        card.put("s512", algorithm: 0x03, key: key)
        card.put("other", key: key)
        // The recorded ykman RENAME s512 -> NewIss:newname.
        #expect(card.send(bytes("00 05 00 00 16 71 04 73353132 71 0e 4e65774973733a6e65776e616d65")).sw == 0x9000)
        #expect(card.applet.state.credentials.map(\.nameString) == ["NewIss:newname", "other"])
        #expect(card.applet.state.credentials[0].algorithm == .sha512)
        let missing = tlv(0x71, Array("s512".utf8)) + tlv(0x71, Array("x".utf8))
        #expect(card.send(apdu(0x05, 0, 0, missing)).sw == 0x6984)
        let taken = tlv(0x71, Array("other".utf8)) + tlv(0x71, Array("NewIss:newname".utf8))
        #expect(card.send(apdu(0x05, 0, 0, taken)).sw == 0x6A80)
        #expect(card.send(apdu(0x05, 0, 0, tlv(0x71, Array("other".utf8)))).sw == 0x6A80)
    }

    @Test("DELETE removes; a missing name answers 6984")
    func delete() {
        let card = TestCard()
        card.select()
        card.put("test", key: Array(repeating: 2, count: 14))
        #expect(card.send(bytes("00 02 00 00 06 71 04 74657374")).sw == 0x9000)
        #expect(card.applet.state.credentials.isEmpty)
        #expect(card.send(bytes("00 02 00 00 06 71 04 74657374")).sw == 0x6984)
        #expect(card.calculate("test", challenge: challenge(1)).sw == 0x6984)
    }

    // MARK: Touch

    @Test("touch policy timeout answers 6982 and does not step the HOTP counter; approve computes")
    func touchPolicy() {
        let seed = Array("12345678901234567890".utf8)
        let card = TestCard(.init(touchPolicy: .timeout))
        card.select()
        card.put("t", digits: 8, key: seed, touch: true)
        card.put("h", type: 0x10, key: seed, touch: true)
        #expect(card.calculate("t", challenge: challenge(1)) == Answer([0x69, 0x82]))
        #expect(card.calculate("h", challenge: []) == Answer([0x69, 0x82]))
        #expect(card.applet.state.credentials[1].counter == 0)
        let approving = TestCard(.init(touchPolicy: .approve), state: card.applet.state)
        approving.select()
        #expect(codeString(fromTruncated: approving.calculate("t", challenge: challenge(59 / 30)).data) == "94287082")
        #expect(codeString(fromTruncated: approving.calculate("h", challenge: []).data) == "755224")
    }

    // MARK: Chaining

    @Test("LIST and CALCULATE ALL chain at 255 bytes with 61xx and A5")
    func chaining() throws {
        let card = TestCard()
        card.select()
        let names = (0..<20).map { "issuer-\($0):" + String(repeating: "x", count: 30) }
        let seed = Array("12345678901234567890".utf8)
        for name in names { #expect(card.put(name, digits: 8, key: seed).sw == 0x9000) }
        let expectedList = names.flatMap { tlv(0x72, [0x21] + Array($0.utf8)) }
        #expect(expectedList.count > 510)

        let first = card.send(apdu(0xA1))
        #expect(first.data.count == 255)
        #expect(first.sw == 0x6100 | UInt16(min(expectedList.count - 255, 255)))
        var chunks: [Int] = []
        let list = card.sendChained(apdu(0xA1), chunks: &chunks)
        #expect(list.sw == 0x9000)
        #expect(list.data == expectedList)
        #expect(chunks.dropLast().allSatisfy { $0 == 255 })

        let all = card.sendChained(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(59 / 30))), chunks: &chunks)
        #expect(all.sw == 0x9000)
        #expect(chunks.count >= 3)
        let elements = try #require(splitTLVs(all.data))
        #expect(elements.count == 40)
        for (index, name) in names.enumerated() {
            #expect(elements[2 * index].value == Array(name.utf8))
            #expect(codeString(fromTruncated: tlv(0x76, elements[2 * index + 1].value)) == "94287082")
        }

        // Another command drops the rest of a chain; A5 then has nothing to send.
        #expect(card.send(apdu(0xA1)).sw >> 8 == 0x61)
        card.send(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(1))))
        card.send(bytes("00 02 00 00 03 71 01 7a"))
        #expect(card.send(apdu(0xA5)).sw == 0x6985)
        // So does a power cycle.
        card.select()
        #expect(card.send(apdu(0xA1)).sw >> 8 == 0x61)
        card.applet.powerCycle()
        card.select()
        #expect(card.send(apdu(0xA5)).sw == 0x6985)
    }

    // MARK: Status words

    @Test("unknown INS 6D00, wrong P1P2 6B00, malformed data 6A80, short APDU 6700")
    func statusWords() {
        let card = TestCard()
        card.select()
        #expect(card.send(apdu(0x42)).sw == 0x6D00)
        #expect(card.send(apdu(0xA1, 0x01, 0x00)).sw == 0x6B00)
        #expect(card.send(apdu(0xA2, 0x00, 0x02, tlv(0x71, [0x41]))).sw == 0x6B00)
        #expect(card.send(apdu(0xA4, 0x01, 0x00)).sw == 0x6B00)
        #expect(card.send(apdu(0x04, 0xDE, 0xAE)).sw == 0x6B00)
        #expect(card.send(apdu(0xA2, 0x00, 0x01, bytes("71 7f 41"))).sw == 0x6A80)
        #expect(card.send(apdu(0xA2, 0x00, 0x01, bytes("71 82 ff"))).sw == 0x6A80)
        #expect(card.send(apdu(0x02, 0, 0, bytes("1f 01 00"))).sw == 0x6A80)
        #expect(card.send(apdu(0x02)).sw == 0x6A80)
        #expect(card.send([0x00, 0xA1]).sw == 0x6700)
        #expect(card.send(bytes("00 a1 00 00 05 01")).sw == 0x6700)
        #expect(card.send(bytes("80 a1 00 00 00")).sw == 0x6E00)
    }

    // MARK: RESET

    @Test("RESET (04 DEAD) wipes credentials and password and draws a new salt, even while locked")
    func reset() {
        let card = TestCard()
        card.select()
        card.put("a", key: Array(repeating: 3, count: 14))
        let oldSalt = card.applet.state.salt
        let key = Array(repeating: UInt8(0x5A), count: 16)
        let hostChallenge = bytes("0102030405060708")
        let setCode = tlv(0x73, [0x21] + key) + tlv(0x74, hostChallenge)
            + tlv(0x75, LibCrypto.hmac(.sha1, key: key, message: hostChallenge))
        #expect(card.send(apdu(0x03, 0, 0, setCode)).sw == 0x9000)
        card.select()
        #expect(card.send(apdu(0xA1)).sw == 0x6982)
        #expect(card.send(bytes("00 04 de ad 00")) == Answer([0x90, 0x00]))
        let state = card.applet.state
        #expect(state.credentials.isEmpty)
        #expect(state.passwordKey == nil)
        #expect(state.salt.count == 8 && state.salt != oldSalt)
        let select = card.select()
        #expect(select.data.count == 15)  // no 74/7B any more
        #expect(Array(select.data.suffix(8)) == state.salt)
        #expect(card.send(apdu(0xA1)) == Answer([0x90, 0x00]))
    }
}
