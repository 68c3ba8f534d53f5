import Foundation
import NIOCore
import Testing
@testable import MFAServer

/// The fast path's hand-written JSON reading and writing, checked against Foundation's coders.
@Suite("Verify wire format: the fast path's parser and writers against Foundation")
struct VerifyWireTests {
    static let simple: [String] = [
        #"{"user":"alice","code":"123456"}"#,
        #"{"code":"123456","user":"alice"}"#,
        " \n{ \"user\" : \"bob\" ,\t\"code\":\"1\" } \r\n",
        #"{"user":"","code":""}"#,
        #"{"user":"zoë 🙂","code":"12 34"}"#,
        #"{"user":"a/b","code":"0"}"#,
    ]

    @Test("bodies it reads: the same values as JSONDecoder", arguments: simple)
    func readsLikeJSONDecoder(_ text: String) throws {
        let fast = try #require(VerifyRequest(simpleJSON: Array(text.utf8)))
        let reference = try JSONDecoder().decode(VerifyRequest.self, from: Data(text.utf8))
        #expect(fast.user == reference.user && fast.code == reference.code)
    }

    static let declined: [String] = [
        "", " ", "{}", "[]", "null", #"{"user":"a"}"#, #"{"code":"1"}"#,
        #"{"user":"a","code":"1","extra":1}"#, #"{"extra":"x","user":"a","code":"1"}"#,
        #"{"user":"a","user":"b"}"#, #"{"user":"a","code":"1","code":"2"}"#,
        #"{"user":"a\"b","code":"1"}"#, #"{"user":"\u0041","code":"1"}"#, #"{"user":"a\/b","code":"1"}"#,
        #"{"user":1,"code":"1"}"#, #"{"user":"a","code":123456}"#, #"{"user":null,"code":"1"}"#,
        #"{"user":"a","code":"1"} x"#, #"{"user":"a","code":"1"}{}"#, #"{"user":"a","code":"1",}"#,
        #"{"user":"a""code":"1"}"#, #"{"user""a","code":"1"}"#, #"{"user":"a","code":"1""#, #"{"user":"a","code":"1"#,
        "{\"user\":\"a\tb\",\"code\":\"1\"}", "{\"user\":\"a\",\"code\":\"1\u{0}\"}", "\u{FEFF}{\"user\":\"a\",\"code\":\"1\"}",
    ]

    @Test("anything else is left to JSONDecoder", arguments: declined)
    func declinesTheRest(_ text: String) {
        #expect(VerifyRequest(simpleJSON: Array(text.utf8)) == nil)
    }

    @Test("invalid UTF-8 in a string is declined (JSONDecoder rejects it too)")
    func invalidUTF8() {
        let bytes = Array(#"{"user":""#.utf8) + [0xC3, 0x28] + Array(#"","code":"1"}"#.utf8)
        #expect(VerifyRequest(simpleJSON: bytes) == nil)
        #expect((try? JSONDecoder().decode(VerifyRequest.self, from: Data(bytes))) == nil)
    }

    @Test("mutated bodies: whenever the fast parser reads one, JSONDecoder reads the same values")
    func mutations() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,\ ux"e1"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xA9, 0xFF]
        var read = 0
        for _ in 0..<20_000 {
            var bytes = Array(Self.simple.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                default: if bytes.count > 1 { bytes.remove(at: at) }
                }
            }
            guard let fast = VerifyRequest(simpleJSON: bytes) else { continue }
            read += 1
            let reference = try JSONDecoder().decode(VerifyRequest.self, from: Data(bytes))
            #expect(fast.user == reference.user && fast.code == reference.code, "\(bytes)")
        }
        #expect(read > 100, "the mutations should leave some bodies readable")
    }

    @Test("responses decode with JSONDecoder to what was written, escapes included")
    func responses() throws {
        for serial in [nil, "VT-0001", "quote\" back\\slash \u{1} tab\t é"] as [String?] {
            let written = VerifyResponse(result: serial == nil ? "rejected" : "accepted", serial: serial)
            let decoded = try JSONDecoder().decode(VerifyResponse.self, from: Data(written.json.readableBytesView))
            #expect(decoded.result == written.result && decoded.serial == written.serial)
        }
        let error = APIError(.badRequest, code: "invalid-body", message: "a \"quoted\" \\ message\n with é")
        let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(error.json.readableBytesView))
        #expect(decoded.error.code == error.code && decoded.error.message == error.message)
    }

    @Test("Date header: IMF-fixdate, as Foundation's formatter writes it")
    func date() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        for second in [784_111_777, 1_700_000_000, 1_795_000_000, 4_102_444_799] + (0..<50).map({ _ in Int.random(in: 0...4_102_444_799) }) {
            #expect(HTTPDate.format(second) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(second))), "\(second)")
        }
    }

    @Test("raw responses: status line, the router's headers, the body")
    func rawResponse() {
        let bytes = HTTPWire.response(.ok, contentType: VerifyResponse.contentType, body: VerifyResponse(result: "rejected").json)
        let text = String(buffer: bytes)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines[0] == "HTTP/1.1 200 OK")
        #expect(lines.contains("Content-Type: application/json; charset=utf-8") && lines.contains("Content-Length: 21") && lines.contains("Server: mfa-bridge"))
        #expect(lines.contains { $0.hasPrefix("Date: ") && $0.hasSuffix(" GMT") })
        #expect(text.hasSuffix("\r\n\r\n{\"result\":\"rejected\"}"))
        let locked = String(buffer: HTTPWire.response(.init(code: 423, reasonPhrase: "Locked"), contentType: APIError.contentType, body: ByteBuffer()))
        #expect(locked.hasPrefix("HTTP/1.1 423 Locked\r\n") && locked.contains("Content-Length: 0\r\n"))
    }
}
