import OTP
import Testing
import TokenDevices
import VirtualTokens

/// SET CODE / VALIDATE with mutual authentication. The reference HMACs come from OpenSSL (OTP's
/// `LibCrypto.hmac`) and from ykman traffic recorded against another card.
@Suite("YKOATH applet: access code")
struct YKOATHPasswordTests {
    /// A card whose salt is the one of the recorded ykman session (fb528f1c3b832af9).
    static func recordedCard() -> TestCard {
        var state = YKOATHCardState()
        state.salt = bytes("fb528f1c3b832af9")
        return TestCard(state: state)
    }

    /// `oath access change -n pw` as ykman sent it: key = PBKDF2("pw", salt), HMAC over its challenge.
    static let recordedSetCode = bytes(
        "00 03 00 00 33 73 11 21 c4 05 41 c4 cc ae ef 4d c6 86 a9 a4 22 11 f1 70"
            + " 74 08 d7 0a 1c f6 3b 8b 03 91 75 14 49 ff e3 c6 3d e8 f1 27 e9 e0 81 89 eb 8a 16 81 b5 df e5 a4")
    static let recordedKey = bytes("c40541c4ccaeef4dc686a9a42211f170")

    /// The select challenge (tag 74) of a SELECT answer.
    static func selectChallenge(_ answer: Answer) -> [UInt8]? {
        splitTLVs(answer.data)?.first { $0.tag == 0x74 }?.value
    }

    @Test("the recorded SET CODE is accepted and stores the PBKDF2 key of 'pw'")
    func recordedSetCode() {
        let card = Self.recordedCard()
        card.select()
        #expect(card.send(Self.recordedSetCode) == Answer([0x90, 0x00]))
        #expect(card.applet.state.passwordKey == Self.recordedKey)
        #expect(card.applet.state.passwordAlgorithm == .sha1)
        #expect(OATHProtocol.deriveKey(password: "pw", salt: bytes("fb528f1c3b832af9")) == Self.recordedKey)
    }

    @Test("SET CODE with a wrong proof answers 6984 and stores nothing")
    func wrongProof() {
        let card = Self.recordedCard()
        card.select()
        var spoiled = Self.recordedSetCode
        spoiled[spoiled.count - 1] ^= 0x01
        #expect(card.send(spoiled) == Answer([0x69, 0x84]))
        #expect(card.applet.state.passwordKey == nil)
        // Missing 74/75 is a syntax error.
        #expect(card.send(apdu(0x03, 0, 0, tlv(0x73, [0x21] + Self.recordedKey))).sw == 0x6A80)
    }

    @Test("locked sessions: SELECT challenges, 6982, VALIDATE with mutual authentication, clear")
    func lockedFlow() throws {
        let card = Self.recordedCard()
        card.select()
        card.put("acct", key: Array(repeating: 7, count: 14))
        #expect(card.send(Self.recordedSetCode).sw == 0x9000)
        let key = Self.recordedKey

        // Every SELECT: version, salt, a fresh challenge and 7B 01 01.
        let first = card.select()
        let second = card.select()
        let firstTLVs = try #require(splitTLVs(first.data))
        #expect(firstTLVs.map(\.tag) == [0x79, 0x71, 0x74, 0x7B])
        #expect(firstTLVs[3].value == [0x01])
        let challenge1 = try #require(Self.selectChallenge(first))
        let challenge2 = try #require(Self.selectChallenge(second))
        #expect(challenge1.count == 8 && challenge2.count == 8 && challenge1 != challenge2)

        // Locked: protected commands answer 6982.
        #expect(card.send(apdu(0xA1)).sw == 0x6982)
        #expect(card.put("x", key: key).sw == 0x6982)
        #expect(card.calculate("acct", challenge: challenge(1)).sw == 0x6982)
        #expect(card.send(apdu(0xA4, 0x00, 0x01, tlv(0x74, challenge(1)))).sw == 0x6982)
        #expect(card.send(bytes("00 02 00 00 06 71 04 61636374")).sw == 0x6982)
        #expect(card.send(bytes("00 03 00 00 02 73 00")).sw == 0x6982)

        // VALIDATE against the older challenge fails: only the latest SELECT counts.
        let hostChallenge = bytes("29ec709a5f3f3656")
        let stale = tlv(0x75, LibCrypto.hmac(.sha1, key: key, message: challenge1)) + tlv(0x74, hostChallenge)
        #expect(card.send(apdu(0xA3, 0, 0, stale)) == Answer([0x69, 0x84]))
        // A wrong key fails.
        let wrongKey = OATHProtocol.deriveKey(password: "wrong", salt: bytes("fb528f1c3b832af9"))
        let wrong = tlv(0x75, LibCrypto.hmac(.sha1, key: wrongKey, message: challenge2)) + tlv(0x74, hostChallenge)
        #expect(card.send(apdu(0xA3, 0, 0, wrong)) == Answer([0x69, 0x84]))
        #expect(card.send(apdu(0xA1)).sw == 0x6982)
        // The right one unlocks and proves the card holds the key too.
        let right = tlv(0x75, LibCrypto.hmac(.sha1, key: key, message: challenge2)) + tlv(0x74, hostChallenge)
        let validated = card.send(apdu(0xA3, 0, 0, right))
        #expect(validated == Answer(tlv(0x75, LibCrypto.hmac(.sha1, key: key, message: hostChallenge)) + [0x90, 0x00]))
        #expect(card.send(apdu(0xA1)) == Answer(tlv(0x72, [0x21] + Array("acct".utf8)) + [0x90, 0x00]))

        // SELECT and power cycles lock again.
        card.applet.powerCycle()
        card.select()
        #expect(card.send(apdu(0xA1)).sw == 0x6982)
        let challenge3 = try #require(Self.selectChallenge(card.select()))
        #expect(card.send(apdu(0xA3, 0, 0, tlv(0x75, LibCrypto.hmac(.sha1, key: key, message: challenge3)) + tlv(0x74, hostChallenge))).sw == 0x9000)

        // Clear: 73 00, after which SELECT has no challenge and nothing is locked.
        #expect(card.send(bytes("00 03 00 00 02 73 00")) == Answer([0x90, 0x00]))
        #expect(card.applet.state.passwordKey == nil)
        let open = card.select()
        #expect(try #require(splitTLVs(open.data)).map(\.tag) == [0x79, 0x71])
        #expect(card.send(apdu(0xA1)).sw == 0x9000)
    }

    @Test("changing the code needs VALIDATE first; VALIDATE without a code answers 6984")
    func changeCode() throws {
        let card = Self.recordedCard()
        card.select()
        let validate = tlv(0x75, [UInt8](repeating: 0, count: 20)) + tlv(0x74, bytes("0001020304050607"))
        #expect(card.send(apdu(0xA3, 0, 0, validate)).sw == 0x6984)
        #expect(card.send(Self.recordedSetCode).sw == 0x9000)
        let newKey = OATHProtocol.deriveKey(password: "pw2", salt: bytes("fb528f1c3b832af9"))
        let hostChallenge = bytes("d70a1cf63b8b0391")
        let setNew = tlv(0x73, [0x21] + newKey) + tlv(0x74, hostChallenge)
            + tlv(0x75, LibCrypto.hmac(.sha1, key: newKey, message: hostChallenge))
        let challenge = try #require(Self.selectChallenge(card.select()))
        #expect(card.send(apdu(0x03, 0, 0, setNew)).sw == 0x6982)
        let proof = tlv(0x75, LibCrypto.hmac(.sha1, key: Self.recordedKey, message: challenge)) + tlv(0x74, hostChallenge)
        #expect(card.send(apdu(0xA3, 0, 0, proof)).sw == 0x9000)
        #expect(card.send(apdu(0x03, 0, 0, setNew)).sw == 0x9000)
        #expect(card.applet.state.passwordKey == newKey)
    }
}
