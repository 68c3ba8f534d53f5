import Testing
import OTP
import TokenDevices

/// The OTP-interface encodings: CRC, frames, configuration records, challenge padding, keyboard reports.
@Suite("YubiKey OTP protocol encodings")
struct YubiOTPProtocolTests {
    @Test("CRC-16: the X.25 check value, and the residual after an appended complement")
    func crc() {
        // CRC-16/X-25's check value is 0x906E = ~crc16("123456789") (init FFFF, poly 0x8408, no final xor here).
        #expect(~YubiCRC.crc16(Array("123456789".utf8)) == 0x906E)
        let data: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        #expect(YubiCRC.check(data + YubiCRC.complementBytes(data)))
        #expect(!YubiCRC.check(data + YubiCRC.complementBytes(data.reversed())))
    }

    @Test("a frame is 64 payload + slot + CRC LE + 3 filler, sent in 7-byte chunks with 0x80|seq, zero chunks skipped")
    func frame() throws {
        let frame = try YubiOTPFrame(slot: 0x30, payload: [0xAA, 0xBB])
        let bytes = frame.bytes
        #expect(bytes.count == 70)
        #expect(bytes[64] == 0x30)
        let crc = YubiCRC.crc16(bytes[0..<64])
        #expect(bytes[65] == UInt8(crc & 0xFF) && bytes[66] == UInt8(crc >> 8))
        let reports = frame.reports
        #expect(reports.allSatisfy { $0.count == 8 && $0[7] & 0x80 != 0 })
        #expect(reports.map { $0[7] & 0x7F } == [0, 9])  // chunks 1…8 are all zero
        #expect(Array(reports[0][0..<2]) == [0xAA, 0xBB])
        let full = try YubiOTPFrame(slot: 1, payload: [UInt8](repeating: 7, count: 64))
        #expect(full.reports.map { $0[7] & 0x7F } == Array(0...9))
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPFrame(slot: 1, payload: [UInt8](repeating: 0, count: 65)) }
    }

    @Test("HOTP record: key[16] + uid[0..4], moving factor/16 big-endian in uid[4..6], flags, CRC")
    func hotpRecord() throws {
        let key = Array(UInt8(1)...UInt8(20))
        let record = try YubiOTPSlotConfiguration.hotp(key: key, digits: 8, initialMovingFactor: 0x1230).bytes
        #expect(record.count == 52)
        #expect(Array(record[22..<38]) == Array(key[0..<16]))
        #expect(Array(record[16..<20]) == Array(key[16..<20]))
        #expect(record[20] == 0x01 && record[21] == 0x23)
        #expect(record[46] == 0x60 && record[47] == 0x02)  // OATH_HOTP|APPEND_CR, OATH_HOTP8
        #expect(YubiCRC.check(record))
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSlotConfiguration.hotp(key: key, digits: 7) }
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSlotConfiguration.hotp(key: key, initialMovingFactor: 5) }
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSlotConfiguration.hotp(key: [UInt8](repeating: 1, count: 21)) }
    }

    @Test("challenge-response and Yubico OTP records")
    func otherRecords() throws {
        let chal = try YubiOTPSlotConfiguration.challengeResponseHMAC(key: [UInt8](repeating: 9, count: 20), requireTouch: true).bytes
        #expect(chal[46] == 0x40 && chal[47] == 0x22 | 0x04 | 0x08)
        let otp = try YubiOTPSlotConfiguration.yubicoOTP(publicID: [1, 2, 3, 4, 5, 6], privateID: [7, 8, 9, 10, 11, 12], key: [UInt8](repeating: 3, count: 16)).bytes
        #expect(Array(otp[0..<6]) == [1, 2, 3, 4, 5, 6] && otp[44] == 6)
        #expect(Array(otp[16..<22]) == [7, 8, 9, 10, 11, 12])
        #expect(YubiCRC.check(otp) && YubiCRC.check(chal))
        #expect(throws: YubiOTPError(.invalidArgument, "")) {
            try YubiOTPSlotConfiguration.yubicoOTP(publicID: [], privateID: [1], key: [UInt8](repeating: 3, count: 16))
        }
    }

    @Test("challenges are padded with a byte different from their last byte")
    func padding() throws {
        #expect(try YubiOTPSession.padChallenge([1, 2, 0]).suffix(61).allSatisfy { $0 == 0xFF })
        #expect(try YubiOTPSession.padChallenge([1, 2, 3]).suffix(61).allSatisfy { $0 == 0x00 })
        #expect(try YubiOTPSession.padChallenge([UInt8](repeating: 5, count: 63)).count == 64)
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSession.padChallenge([UInt8](repeating: 5, count: 64)) }
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSession.padChallenge([]) }
        #expect(throws: YubiOTPError(.invalidArgument, "")) { try YubiOTPSession.padChallenge([UInt8](repeating: 1, count: 65)) }
    }

    @Test("status report parsing")
    func status() throws {
        let status = try YubiOTPStatus(report: [0, 5, 4, 3, 7, 0x05, 0x00, 0])
        #expect(status.firmware == "5.4.3" && status.programmingSequence == 7)
        #expect(status.isConfigured(.one) && !status.isConfigured(.two) && status.needsTouch(.one))
        #expect(throws: YubiOTPError(.shortReport, "")) { try YubiOTPStatus(report: [0, 5, 4]) }
    }

    @Test("keyboard reports decode to text; Enter ends; held keys count once; unknown usages are reported")
    func keyboard() {
        var decoder = HIDKeyboardDecoder()
        for report: [UInt8] in [[0, 0, 0x06, 0, 0, 0, 0, 0], [0, 0, 0x06, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0x02, 0, 0x05, 0, 0, 0, 0, 0],
                                [0, 0, 0x1E, 0, 0, 0, 0, 0], [0, 0, 0x27, 0, 0, 0, 0, 0], [0, 0, 0x28, 0, 0, 0, 0, 0], [0, 0, 0x04, 0, 0, 0, 0, 0]] {
            decoder.feed(report)
        }
        #expect(decoder.text == "cB10" && decoder.finished)
        var odd = HIDKeyboardDecoder()
        odd.feed([0, 0, 0x3A, 0, 0, 0, 0, 0])
        #expect(odd.unknownUsages == [0x3A])
        for character in "cbdefghijklnrtuv0123456789" {
            let (usage, shift) = HIDKeyboardDecoder.usage(for: character)!
            #expect(HIDKeyboardDecoder.character(usage, shift: shift) == character)
        }
    }
}
