import OTP
import Testing
import TokenDevices
import VirtualTokens

@Suite("YKOATH applet: hostile modes")
struct YKOATHHostileTests {
    static let seed = Array("12345678901234567890".utf8)

    /// A card in `mode` holding one TOTP credential "a" (RFC seed, 8 digits), put in while it behaved.
    static func card(_ mode: HostileBehaviour) -> TestCard {
        let setup = TestCard()
        setup.select()
        setup.put("a", digits: 8, key: seed)
        let card = TestCard(.init(hostile: mode), state: setup.applet.state)
        return card
    }

    @Test("every mode still answers SELECT with version and salt, and foreign AIDs with 6A82",
          arguments: HostileBehaviour.allCases)
    func selectStillWorks(mode: HostileBehaviour) {
        let card = Self.card(mode)
        let answer = card.select()
        #expect(answer.sw == 0x9000)
        #expect(Array(answer.data.prefix(7)) == bytes("79 03 05 04 03 71 08"))
        #expect(Array(answer.data[7..<15]) == card.applet.state.salt)
        #expect(card.send(bytes("00 a4 04 00 05 a0 00 00 03 08")) == Answer([0x6A, 0x82]))
    }

    @Test("truncatedTLV: the last element of LIST/CALCULATE declares more than it carries")
    func truncatedTLV() {
        let card = Self.card(.truncatedTLV)
        #expect(card.select().data.count == 15)
        #expect(card.send(apdu(0xA1)) == Answer(bytes("72 02") + [0x90, 0x00]))  // declares 2, carries 0
        let calculate = card.calculate("a", challenge: challenge(1))
        #expect(calculate.sw == 0x9000 && calculate.data.count == 5 && Array(calculate.data.prefix(2)) == [0x76, 0x05])
        let all = card.send(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(1))))
        #expect(all.data.count == 3 + 5 && splitTLVs(all.data) == nil)
        // Commands without data are unchanged.
        #expect(card.put("b", key: Self.seed) == Answer([0x90, 0x00]))
    }

    @Test("truncatedSelect: SELECT ends with 7B 04 01; the rest is normal")
    func truncatedSelect() {
        let card = Self.card(.truncatedSelect)
        let answer = card.select()
        #expect(Array(answer.data.suffix(3)) == [0x7B, 0x04, 0x01])
        #expect(answer.data.count == 18)
        #expect(codeString(fromTruncated: card.calculate("a", challenge: challenge(59 / 30)).data) == "94287082")
    }

    @Test("shortResponse: one byte, no status word, yet the command took effect")
    func shortResponse() {
        let card = Self.card(.shortResponse)
        card.select()
        #expect(card.applet.process(apdu(0xA1)) == [0x90])
        #expect(card.applet.process(apdu(0x02, 0, 0, tlv(0x71, Array("a".utf8)))) == [0x90])
        #expect(card.applet.state.credentials.isEmpty)
    }

    @Test("oddStatus: 6F00, 6A88, then 9001 with the data, in turn")
    func oddStatus() {
        let card = Self.card(.oddStatus)
        card.select()
        #expect(card.send(apdu(0xA1)) == Answer([0x6F, 0x00]))
        #expect(card.send(apdu(0xA1)) == Answer([0x6A, 0x88]))
        #expect(card.send(apdu(0xA1)) == Answer(bytes("72 02 21 61 90 01")))
        #expect(card.send(apdu(0xA1)) == Answer([0x6F, 0x00]))
        card.select()
        #expect(card.send(apdu(0xA1)) == Answer([0x6F, 0x00]))
    }

    @Test("endlessChaining: LIST and CALCULATE ALL never stop answering 61FF")
    func endlessChaining() {
        let card = Self.card(.endlessChaining)
        card.select()
        for command in [apdu(0xA1), apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(1)))] {
            var answer = card.send(command)
            for _ in 0..<100 {
                #expect(answer.sw == 0x61FF && answer.data.count == 16)
                answer = card.send(apdu(0xA5))
            }
        }
        // CALCULATE is left alone.
        #expect(codeString(fromTruncated: card.calculate("a", challenge: challenge(59 / 30)).data) == "94287082")
    }

    @Test("garbageTLV: random bytes with 9000")
    func garbage() {
        let card = Self.card(.garbageTLV)
        card.select()
        var distinct = Set<[UInt8]>()
        for _ in 0..<20 {
            let answer = card.send(apdu(0xA1))
            #expect(answer.sw == 0x9000 && (1...48).contains(answer.data.count))
            distinct.insert(answer.data)
        }
        #expect(distinct.count > 1)
    }

    @Test("wrongDigits: code responses say 15 digits; the HMAC bytes are still right")
    func wrongDigits() throws {
        let card = Self.card(.wrongDigits)
        card.select()
        let answer = card.calculate("a", challenge: challenge(59 / 30))
        #expect(answer.data.count == 7 && Array(answer.data.prefix(3)) == [0x76, 0x05, 0x0F])
        var repaired = answer.data
        repaired[2] = 8
        #expect(codeString(fromTruncated: repaired) == "94287082")
        let all = try #require(splitTLVs(card.send(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(1)))).data))
        #expect(all[1].tag == 0x76 && all[1].value[0] == 0x0F)
        let full = card.calculate("a", challenge: challenge(0), truncated: false)
        #expect(full.data.prefix(3) == [0x75, 0x15, 0x0F])
        #expect(Array(full.data.dropFirst(3)) == bytes(YKOATHAppletTests.rfc4226HMAC[0]))
    }
}
