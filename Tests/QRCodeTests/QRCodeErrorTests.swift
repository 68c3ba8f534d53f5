import QRCode
import Testing

@Suite("QR code errors")
struct QRCodeErrorTests {
    @Test("8000 bytes fit in no QR code: tooLong, with the limit in the message")
    func tooLong() {
        let text = String(repeating: "x", count: 8000)
        #expect(throws: QRCodeError(.tooLong)) { try QRCode(encoding: text) }
        do {
            _ = try QRCode(encoding: text)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tooLong)
            #expect(error.message.contains("8000 bytes"))
            #expect(error.message.contains("version 40"))
            #expect(error.message.contains("2331"))
            // The message never repeats the text (it may be a secret).
            #expect(!error.message.contains("xxxx"))
            #expect("\(error)" == error.message)
        }
    }

    @Test("the capacity boundary of version 40 is exact at every level", arguments: QRCode.ErrorCorrection.allCases)
    func boundary(level: QRCode.ErrorCorrection) throws {
        // Lower-case letters need 8-bit mode, so the byte capacity applies exactly.
        let limit = level.maximumByteCount
        let code = try QRCode(encoding: String(repeating: "q", count: limit), errorCorrection: level)
        #expect(code.version == 40 && code.size == 177)
        #expect(throws: QRCodeError(.tooLong)) {
            try QRCode(encoding: String(repeating: "q", count: limit + 1), errorCorrection: level)
        }
    }

    @Test("digits pack tighter: 7089 digits fit at level L, 7090 do not")
    func numericCapacity() throws {
        #expect(try QRCode(encoding: String(repeating: "7", count: 7089), errorCorrection: .low).version == 40)
        #expect(throws: QRCodeError(.tooLong)) {
            try QRCode(encoding: String(repeating: "7", count: 7090), errorCorrection: .low)
        }
    }

    @Test("empty text and NUL characters are encodingFailed")
    func invalidText() {
        #expect(throws: QRCodeError(.encodingFailed)) { try QRCode(encoding: "") }
        #expect(throws: QRCodeError(.encodingFailed)) { try QRCode(encoding: "abc\u{0}def") }
        do {
            _ = try QRCode(encoding: "abc\u{0}def")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("NUL"))
            #expect(!error.message.contains("abc"))
        }
    }

    @Test("equality compares codes only; codes are stable strings")
    func errorStyle() {
        #expect(QRCodeError(.io, "one") == QRCodeError(.io, "two"))
        #expect(QRCodeError(.io) != QRCodeError(.tooLong))
        #expect(QRCodeError.Code.tooLong.rawValue == "too-long")
        #expect(QRCodeError.Code.encodingFailed.rawValue == "encoding-failed")
        #expect(QRCodeError.Code.io.rawValue == "io")
    }

    @Test("description and mirror do not reveal the text")
    func noLeak() throws {
        let code = try QRCode(encoding: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
        #expect("\(code)" == "QRCode(version \(code.version), \(code.size)×\(code.size) modules, error correction M)")
        #expect(Mirror(reflecting: code).children.isEmpty)
    }
}
