import Testing
import OTP

/// Yubico OTP decoding against published vectors.
///
/// Sources: developers.yubico.com, OTP/Specifications/Test_vectors (Yubico/developers.yubico.com
/// `content/OTP/Specifications/Test_vectors.adoc`: key, private id, counters, CRC, OTP), and the
/// yubico-c `test-vectors.txt` (modhex and raw AES-128-ECB examples). Values typed in by hand.
@Suite("Yubico OTP: modhex, AES-128, CRC, private id, counters (published vectors)")
struct YubicoOTPVectorTests {
    struct Vector: Sendable, CustomStringConvertible {
        let key: String, privateID: String
        let usage: UInt16, timestampLow: UInt32, timestampHigh: UInt32, session: UInt8, random: UInt16, crc: UInt16
        let otp: String
        var description: String { otp }
    }

    static let vectors: [Vector] = [
        Vector(key: "000102030405060708090a0b0c0d0e0f", privateID: "010203040506", usage: 0x0001, timestampLow: 0x0001, timestampHigh: 0x01,
               session: 0x01, random: 0x0000, crc: 0xfe36, otp: "dvgtiblfkbgturecfllberrvkinnctnn"),
        Vector(key: "000102030405060708090a0b0c0d0e0f", privateID: "010203040506", usage: 0x0001, timestampLow: 0x0001, timestampHigh: 0x01,
               session: 0x02, random: 0x0000, crc: 0x1152, otp: "rnibcnfhdninbrdebccrndfhjgnhftee"),
        Vector(key: "000102030405060708090a0b0c0d0e0f", privateID: "010203040506", usage: 0x0fff, timestampLow: 0x0001, timestampHigh: 0x01,
               session: 0x01, random: 0x0000, crc: 0x9454, otp: "iikkijbdknrrdhfdrjltvgrbkkjblcbh"),
        Vector(key: "88888888888888888888888888888888", privateID: "888888888888", usage: 0x8888, timestampLow: 0x8888, timestampHigh: 0x88,
               session: 0x88, random: 0x8888, crc: 0xd3b6, otp: "dcihgvrhjeucvrinhdfddbjhfjftjdei"),
        Vector(key: "00000000000000000000000000000000", privateID: "000000000000", usage: 0x0000, timestampLow: 0x0000, timestampHigh: 0x00,
               session: 0x00, random: 0x0000, crc: 0xa96a, otp: "kkkncjnvcnenkjvjgncjihljiibgbhbh"),
        Vector(key: "c4422890653076cde73d449b191b416a", privateID: "33c69e7f249e", usage: 0x0001, timestampLow: 0x13a7, timestampHigh: 0x24,
               session: 0x00, random: 0xc63c, crc: 0x1c86, otp: "iucvrkjiegbhidrcicvlgrcgkgurhjnj"),
    ]

    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map {
            let start = text.index(text.startIndex, offsetBy: $0)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    @Test("every published vector decrypts to its fields and validates", arguments: vectors)
    func publishedVector(_ v: Vector) throws {
        let token = try YubicoOTP.validate(v.otp, key: Self.hex(v.key), privateID: Self.hex(v.privateID))
        #expect(token.privateID == Self.hex(v.privateID))
        #expect(token.usageCounter == v.usage)
        #expect(token.timestamp == v.timestampHigh << 16 | v.timestampLow)
        #expect(token.sessionCounter == v.session)
        #expect(token.random == v.random)
        #expect(token.crc == v.crc)
        #expect(token.publicID.isEmpty)
    }

    @Test("a public id prefix is split off and compared")
    func publicIDPrefix() throws {
        let v = Self.vectors[0]
        let token = try YubicoOTP.validate("ccccccbchvth" + v.otp, key: Self.hex(v.key), privateID: Self.hex(v.privateID),
                                           publicID: try Modhex.decode("ccccccbchvth"))
        #expect(Modhex.encode(token.publicID) == "ccccccbchvth")
        #expect(throws: OTPError(.publicIDMismatch, "")) {
            try YubicoOTP.validate("ccccccbchvtj" + v.otp, key: Self.hex(v.key), privateID: Self.hex(v.privateID),
                                   publicID: try Modhex.decode("ccccccbchvth"))
        }
    }

    @Test("modhex and AES-128-ECB examples of yubico-c's test-vectors.txt")
    func yubicoCVectors() throws {
        #expect(try Modhex.decode("hknhfjbrjnlnldnhcujvddbikngjrtgh") == Self.hex("69b6481c8baba2b60e8f22179b58cd56"))
        #expect(try Modhex.decode("dteffuje") == Self.hex("2d344e83"))
        #expect(Modhex.encode(Array("test".utf8)) == "ifhgieif")
        #expect(Modhex.encode(Self.hex("ecde18dbe76fbd0c33330f1c354871db")) == "urtubjtnuihvntcreeeecvbregfjibtn")
        // The sample OTP of that file decrypts (key ecde18db…) to 8792ebfe26cc130030c20011c89f23c8, whose CRC holds.
        let token = try YubicoOTP.decrypt("dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh", key: Self.hex("ecde18dbe76fbd0c33330f1c354871db"))
        #expect(token.publicID == Self.hex("2d344e83"))
        #expect(token.privateID == Self.hex("8792ebfe26cc"))
        #expect(token.usageCounter == 0x0013)
        #expect(token.timestamp == 0x00C230)
        #expect(token.sessionCounter == 0x11)
    }

    @Test("wrong key, wrong private id, replays and bad modhex are typed errors")
    func rejections() throws {
        let v = Self.vectors[1]  // usage 1, session 2
        let key = Self.hex(v.key), id = Self.hex(v.privateID)
        #expect(throws: OTPError(.otpCRCMismatch, "")) { try YubicoOTP.decrypt(v.otp, key: Self.hex(Self.vectors[3].key)) }
        #expect(throws: OTPError(.privateIDMismatch, "")) { try YubicoOTP.validate(v.otp, key: key, privateID: Self.hex("010203040507")) }
        #expect(throws: OTPError(.replayed, "")) { try YubicoOTP.validate(v.otp, key: key, privateID: id, last: (1, 2)) }
        #expect(throws: OTPError(.replayed, "")) { try YubicoOTP.validate(v.otp, key: key, privateID: id, last: (2, 0)) }
        #expect(try YubicoOTP.validate(v.otp, key: key, privateID: id, last: (1, 1)).sessionCounter == 2)
        #expect(try YubicoOTP.validate(v.otp, key: key, privateID: id, last: (0, 200)).usageCounter == 1)
        #expect(throws: OTPError(.invalidModhex, "")) { try YubicoOTP.decrypt("dvgtiblfkbgturecfllberrvkinnctna", key: key) }
        #expect(throws: OTPError(.invalidModhex, "")) { try YubicoOTP.decrypt("dvgt", key: key) }
        #expect(throws: OTPError(.invalidKey, "")) { try YubicoOTP.decrypt(v.otp, key: [1, 2, 3]) }
        // One flipped character: the CRC catches it.
        #expect(throws: OTPError(.otpCRCMismatch, "")) { try YubicoOTP.decrypt("rnibcnfhdninbrdebccrndfhjgnhftef", key: key) }
    }

    @Test("the token side re-creates every published OTP from its fields, and the secret form validates it", arguments: vectors)
    func encodeVector(_ v: Vector) throws {
        let otp = try YubicoOTP.encode(
            publicID: [], privateID: Self.hex(v.privateID), usageCounter: v.usage, sessionCounter: v.session,
            timestamp: v.timestampHigh << 16 | v.timestampLow, random: v.random, key: Self.hex(v.key))
        #expect(otp == v.otp)
        let secret = try OTPSecret(bytes: Self.hex(v.key) + Self.hex(v.privateID))
        let token = try YubicoOTP.validate("ccccccbchvth" + v.otp, secret: secret, publicID: try Modhex.decode("ccccccbchvth"))
        #expect(token.usageCounter == v.usage && token.sessionCounter == v.session)
        #expect(token.counterValue == Int64(v.usage) << 8 | Int64(v.session))
        #expect(YubicoOTP.publicID(of: "ccccccbchvth" + v.otp) == "ccccccbchvth")
        #expect(YubicoOTP.publicID(of: v.otp) == "")
        #expect(YubicoOTP.publicID(of: "123456") == nil)
        let otherID = try OTPSecret(bytes: Self.hex(v.key) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: OTPError(.privateIDMismatch, "")) { try YubicoOTP.validate(v.otp, secret: otherID) }
        #expect(throws: OTPError(.invalidKey, "")) { try YubicoOTP.validate(v.otp, secret: try OTPSecret(bytes: Self.hex(v.key))) }
    }
}
