import OTP
import TestSupport
import Testing
import TokenDevices

@Suite("APDU, TLV, status words and OATH encodings")
struct SmartcardEncodingTests {
    @Test("command APDU cases 1-4 encode per ISO 7816-4, and parse back")
    func apduCases() throws {
        #expect(try CommandAPDU(ins: 0xA4, p1: 4).encoded() == [0x00, 0xA4, 0x04, 0x00])
        #expect(try CommandAPDU(ins: 0xC0, le: 256).encoded() == [0x00, 0xC0, 0x00, 0x00, 0x00])
        #expect(try CommandAPDU(ins: 0x01, data: [1, 2]).encoded() == [0x00, 0x01, 0x00, 0x00, 0x02, 1, 2])
        #expect(try CommandAPDU(ins: 0x01, data: [1], le: 16).encoded() == [0x00, 0x01, 0x00, 0x00, 0x01, 1, 0x10])
        #expect(throws: SmartcardError(.malformedCommand, "")) { try CommandAPDU(ins: 1, data: [UInt8](repeating: 0, count: 256)).encoded() }
        // ykman sends empty commands as 5 bytes with Lc=00.
        let empty = try CommandAPDU(parsing: [0x00, 0xA1, 0x00, 0x00, 0x00])
        #expect(empty.ins == 0xA1 && empty.data.isEmpty && empty.le == nil)
        let case4 = try CommandAPDU(parsing: [0x00, 0x01, 0x00, 0x00, 0x01, 0x07, 0x00])
        #expect(case4.data == [7] && case4.le == 256)
        #expect(throws: SmartcardError(.malformedCommand, "")) { try CommandAPDU(parsing: [0x00, 0x01, 0x00, 0x00, 0x05, 1]) }
        #expect(throws: SmartcardError(.malformedCommand, "")) { try CommandAPDU(parsing: [0x00, 0x01]) }
    }

    @Test("responses need their status word")
    func responses() throws {
        let r = try ResponseAPDU(parsing: [1, 2, 0x61, 0x10])
        #expect(r.data == [1, 2] && r.status.isMoreData && r.status.sw2 == 0x10)
        #expect(try ResponseAPDU(parsing: [0x90, 0x00]).status == .success)
        #expect(throws: SmartcardError(.malformedResponse, "")) { try ResponseAPDU(parsing: [0x90]) }
        #expect(StatusWord.securityNotSatisfied.description == "6982")
        #expect(!r.description.contains("1, 2"))
    }

    @Test("BER-TLV: short and long lengths, order and duplicates kept, truncation rejected with the offset")
    func tlv() throws {
        let long = [UInt8](repeating: 0xAB, count: 200)
        let huge = [UInt8](repeating: 0xCD, count: 300)
        let encoded = TLV.encode([TLV(0x71, [1]), TLV(0x71, [2]), TLV(0x73, long), TLV(0x74, huge)])
        #expect(Array(encoded[6..<9]) == [0x73, 0x81, 200])
        let parsed = try TLV.parse(encoded)
        #expect(parsed.map(\.tag) == [0x71, 0x71, 0x73, 0x74])
        #expect(parsed[1].value == [2] && parsed[2].value == long && parsed[3].value == huge)
        do {
            _ = try TLV.parse([0x71, 0x05, 1, 2])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .malformedTLV && error.message.contains("offset 0") && error.message.contains("declares 5 bytes"))
        }
        #expect(throws: SmartcardError(.malformedTLV, "")) { try TLV.parse([0x71]) }
        #expect(throws: SmartcardError(.malformedTLV, "")) { try TLV.parse([0x71, 0x83, 0, 0, 1]) }
        #expect(throws: SmartcardError(.malformedTLV, "")) { try TLV.parse([0x1F, 0x01, 0x00]) }
        // YKOATH's bare property pair: read as a raw byte between TLVs.
        var reader = TLVReader([0x78, 0x02, 0x7A, 0x04, 0, 0, 0, 5])
        #expect(reader.peekTag == 0x78)
        _ = try reader.rawByte()
        #expect(try reader.rawByte() == 0x02)
        #expect(try reader.next() == TLV(0x7A, [0, 0, 0, 5]))
    }

    @Test("credential ids: period prefix only for TOTP and only when not 30")
    func credentialIDs() {
        #expect(OATHCredentialID(issuer: "Corp", account: "bob", period: 60).formatted(type: .totp) == "60/Corp:bob")
        #expect(OATHCredentialID(issuer: "Corp", account: "bob", period: 30).formatted(type: .totp) == "Corp:bob")
        #expect(OATHCredentialID(issuer: nil, account: "bob", period: 60).formatted(type: .hotp) == "bob")
        let parsed = OATHCredentialID(parsing: "15/Corp:bob:x", type: .totp)
        #expect(parsed.period == 15 && parsed.issuer == "Corp" && parsed.account == "bob:x")
        #expect(OATHCredentialID(parsing: "15/Corp:bob", type: .hotp).issuer == "15/Corp")
    }

    @Test("truncated responses are masked with 0x7FFFFFFF (the card does not mask) and reduced")
    func truncated() throws {
        // RFC 4226 counter 0: truncated value 0x4c93cf18 = 1284755224 -> 755224; with the top bit set too.
        #expect(try OATHProtocol.code(fromTruncated: [6, 0x4C, 0x93, 0xCF, 0x18]).description == "755224")
        #expect(try OATHProtocol.code(fromTruncated: [6, 0xCC, 0x93, 0xCF, 0x18]).description == "755224")
        #expect(try OATHProtocol.code(fromTruncated: [8, 0x4C, 0x93, 0xCF, 0x18]).description == "84755224")
        #expect(throws: SmartcardError(.malformedResponse, "")) { try OATHProtocol.code(fromTruncated: [15, 0, 0, 0, 1]) }
        #expect(throws: SmartcardError(.malformedResponse, "")) { try OATHProtocol.code(fromTruncated: [6, 0, 0]) }
        #expect(OATHProtocol.timeChallenge(time: 59, period: 30) == [0, 0, 0, 0, 0, 0, 0, 1])
    }

    @Test("the password key is PBKDF2-HMAC-SHA1(password, salt, 1000, 16), checked against Python's hashlib")
    func passwordKey() throws {
        let salt: [UInt8] = [0xfb, 0x52, 0x8f, 0x1c, 0x3b, 0x83, 0x2a, 0xf9]
        let ours = Hex.encode(OATHProtocol.deriveKey(password: "pw", salt: salt))
        let theirs = try TestTools.run(
            "python3", ["-c", "import hashlib; print(hashlib.pbkdf2_hmac('sha1', b'pw', bytes.fromhex('fb528f1c3b832af9'), 1000, 16).hex())"])
        #expect(ours + "\n" == theirs.stdout)
    }

    @Test("every PC/SC error has a name and a message people can act on")
    func pcscErrors() {
        #expect(PCSCError.noService.message.contains("pcscd"))
        #expect(PCSCError.removedCard.message == "card removed")
        #expect(PCSCError.removedCard.name == "SCARD_W_REMOVED_CARD")
        #expect(PCSCError(rawValue: 0x8010_0069, operation: "send a command").description == "send a command: card removed (SCARD_W_REMOVED_CARD)")
        #expect(PCSCError(rawValue: 0x1234).name.hasPrefix("SCARD_0x"))
        #expect(PCSCError.noReadersAvailable == PCSCError(rawValue: 0x8010_002E, operation: "x"))
    }

    @Test("reader choice: exact, index, unique substring; errors list the readers")
    func readerChoice() throws {
        let readers = ["Yubico YubiKey OTP+FIDO+CCID 00 00", "Virtual PCD 00 00", "Virtual PCD 00 01"]
        #expect(try ReaderSelection.resolve("Virtual PCD 00 01", among: readers) == readers[2])
        #expect(try ReaderSelection.resolve("0", among: readers) == readers[0])
        #expect(try ReaderSelection.resolve("yubikey", among: readers) == readers[0])
        #expect(try ReaderSelection.resolve(nil, among: ["only"]) == "only")
        #expect(throws: ReaderSelectionError(code: .ambiguous, message: "")) { try ReaderSelection.resolve("virtual", among: readers) }
        #expect(throws: ReaderSelectionError(code: .ambiguous, message: "")) { try ReaderSelection.resolve(nil, among: readers) }
        #expect(throws: ReaderSelectionError(code: .notFound, message: "")) { try ReaderSelection.resolve("nitrokey", among: readers) }
        #expect(throws: ReaderSelectionError(code: .noReaders, message: "")) { try ReaderSelection.resolve(nil, among: []) }
    }
}
