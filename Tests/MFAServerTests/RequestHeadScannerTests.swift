import NIOCore
import NIOEmbedded
import HTTPReference
import NIOHTTP1
import Testing
@testable import MFAServer

/// The fast path's request-head reader against NIO's HTTP/1 decoder (llhttp), which the rest of the
/// server uses: whatever head the scanner reads, NIO reads the same way.
@Suite("Request heads: the fast path's scanner against NIO's HTTP/1 decoder")
struct RequestHeadScannerTests {
    static let body = #"{"user":"alice","code":"123456"}"#
    static let templates: [String] = [
        "POST /v1/verify HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer mfa_1_x\r\nContent-Length: \(body.utf8.count)\r\nIdempotency-Key: k1\r\n\r\n\(body)",
        "POST /v1/verify HTTP/1.1\r\ncontent-type: application/json\r\nconnection: keep-alive\r\nauthorization:Bearer t \r\nCONTENT-LENGTH: \(body.utf8.count)\r\n\r\n\(body)",
        "POST /v1/verify?x=1 HTTP/1.1\r\nExpect: 100-continue\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nContent-Length: 2\r\n\r\n{}",
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "DELETE /v1/devices/X HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    ]
    /// What follows the request on the connection: the decoder must find it exactly where the scanner's
    /// framing says the first request ends.
    static let next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"

    /// NIO's reading of the first request in `bytes` (nil when NIO rejects it).
    static func reference(_ bytes: [UInt8]) -> NIORequestReading? { NIORequestReading(bytes) }

    static func scan(_ bytes: [UInt8]) -> HeadScan {
        bytes.withUnsafeBytes { RequestHeadScanner.scan($0) }
    }

    /// Checks that NIO reads `bytes` as the scanner did; returns whether the scanner read a head.
    @discardableResult
    static func agree(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard case .head(let head) = scan(bytes) else { return false }
        let text = String(decoding: bytes, as: UTF8.self).debugDescription
        guard let reference = reference(bytes) else {
            Issue.record("the scanner read a head NIO rejects: \(text)", sourceLocation: sourceLocation)
            return true
        }
        let h = reference.head
        #expect(h.version == .http1_1, "\(text)", sourceLocation: sourceLocation)
        #expect(head.isVerify == (h.method == .POST && h.uri == "/v1/verify"), "\(text)", sourceLocation: sourceLocation)
        #expect(head.authorizationCount == h.headers["authorization"].count, "\(text)", sourceLocation: sourceLocation)
        #expect(head.authorization == h.headers["authorization"].first, "\(text)", sourceLocation: sourceLocation)
        #expect(head.idempotencyKey == h.headers["idempotency-key"].first, "\(text)", sourceLocation: sourceLocation)
        #expect(head.expects == h.headers.contains(name: "expect"), "\(text)", sourceLocation: sourceLocation)
        #expect(head.closes == !h.isKeepAlive, "\(text)", sourceLocation: sourceLocation)
        #expect(!h.headers.contains(name: "transfer-encoding"), "\(text)", sourceLocation: sourceLocation)
        if head.length + head.contentLength <= bytes.count {
            // The whole request is there: NIO ends it after the same body, and finds the next one.
            #expect(reference.ended && reference.body == head.contentLength, "\(text)", sourceLocation: sourceLocation)
            // (After `Connection: close` NIO reads no further, as the fast path hands all on.)
            if !head.closes, head.length + head.contentLength + next.utf8.count == bytes.count {
                #expect(reference.nextHead?.uri == "/next", "\(text)", sourceLocation: sourceLocation)
            }
        }
        return true
    }

    @Test("the templates: read, and read as NIO reads them", arguments: templates)
    func templatesAgree(_ text: String) {
        #expect(Self.agree(Array((text + Self.next).utf8)))
    }

    @Test("every prefix of a request is incomplete until its head ends")
    func prefixes() {
        let bytes = Array(Self.templates[0].utf8)
        guard case .head(let head) = Self.scan(bytes) else { Issue.record("not read"); return }
        for count in 0..<head.length {
            #expect(Self.scan(Array(bytes[..<count])) == .incomplete, "\(count)")
        }
        #expect(Self.scan(Array(bytes[..<head.length])) == .head(head))
    }

    static let unusual: [String] = [
        "POST /v1/verify HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/verify HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /v1/verify HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/verify HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}",
        "POST /v1/verify HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}",
        "POST /v1/verify HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "POST /v1/verify HTTP/1.1\r\nX : a\r\n\r\n",
        "POST /v1/verify HTTP/1.1\nX: a\n\n",
        "POST /v1/verify HTTP/1.1\r\nX: caf\u{E9}\r\n\r\n",
        "POST /v1/verify HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
        "post /v1/verify HTTP/1.1\r\n\r\n",
        "\r\nPOST /v1/verify HTTP/1.1\r\n\r\n",
        "POST  /v1/verify HTTP/1.1\r\n\r\n",
        "POST /v1/verify HTTP/1.1 \r\n\r\n",
        "CONNECT /v1/verify HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
    ]

    @Test("after CONNECT or an upgrade NIO parses nothing more: the scanner never reads such a head, and the guard knows NIO's rule")
    func tunnels() {
        let requests = [
            "CONNECT /v1/verify HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nConnection: keep-alive, upgrade\r\nUpgrade: h2c\r\n\r\n",
        ]
        for request in requests {
            let bytes = Array((request + Self.next).utf8)
            #expect(Self.scan(bytes) == .unusual, "\(request.debugDescription)")
            let reference = Self.reference(bytes)
            #expect(reference?.ended == true && reference?.nextHead == nil, "NIO should read the request and stop: \(request.debugDescription)")
            #expect(reference.map { HTTPUpgrade.requested(by: $0.head) } == true, "\(request.debugDescription)")
        }
        // An Upgrade field without the connection token is no upgrade to NIO: it goes on parsing.
        let plain = Array(("GET /healthz HTTP/1.1\r\nUpgrade: websocket\r\n\r\n" + Self.next).utf8)
        let reference = Self.reference(plain)
        #expect(reference?.nextHead?.uri == "/next" && reference.map { HTTPUpgrade.requested(by: $0.head) } == false)
    }

    @Test("framing it does not read with certainty is left to NIO", arguments: unusual)
    func leftToNIO(_ text: String) {
        #expect(Self.scan(Array(text.utf8)) == .unusual)
    }

    @Test("a head longer than 8 KiB, or bytes no head holds, is left to NIO without waiting for the end")
    func longOrBinary() {
        let long = "POST /v1/verify HTTP/1.1\r\nX: " + String(repeating: "a", count: 9_000)
        #expect(Self.scan(Array(long.utf8)) == .unusual)
        #expect(Self.scan([0x16, 0x03, 0x01, 0x00]) == .unusual)  // a TLS hello on the plain port
        #expect(Self.scan(Array("POST /v1/verify HTTP/1.1\r\nX: \u{0}".utf8)) == .unusual)
    }

    @Test("mutated requests: whenever the scanner reads a head, NIO reads the same request")
    func mutations() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(" \t\r\n:,;0123456789AaZz-/?".utf8) + [0x00, 0x7F, 0x80, 0xFF]
        let lines = ["Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Connection: close\r\n", " folded\r\n",
                     "Authorization: Bearer z\r\n", "Expect: 100-continue\r\n", "Idempotency-Key: k2\r\n", "\r\n",
                     "Connection: upgrade\r\n", "Upgrade: h2c\r\n", "CONNECT "].map { Array($0.utf8) }
        var read = 0
        for _ in 0..<6_000 {
            var bytes = Array(Self.templates.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                case 2: bytes.insert(contentsOf: lines.randomElement(using: &generator)!, at: at)
                default: if bytes.count > 1 { bytes.remove(at: at) }
                }
            }
            if Self.agree(bytes + Array(Self.next.utf8)) { read += 1 }
        }
        #expect(read > 500, "the mutations should leave many heads readable (\(read))")
    }
}
