import HTTPReference
import MFAServer
import NIOHTTP1

/// The request-head scanner against NIO's HTTP/1 decoder on the same bytes: whatever head the
/// scanner reads, NIO must read the same way, or the two paths of the server would disagree about a
/// request (the differential test in `RequestHeadScannerTests` does the same on mutated requests).
enum ScannerOracle {
    /// A request NIO must find right after the first one, where the scanner's framing ends it.
    static let next = Array("GET /next HTTP/1.1\r\nHost: a\r\n\r\n".utf8)

    static func check(_ input: [UInt8]) {
        let scan = input.withUnsafeBytes { RequestHeadScanner.scan($0) }
        guard case .head(let head) = scan else { return }
        let complete = head.length + head.contentLength <= input.count
        let bytes = complete ? Array(input[..<(head.length + head.contentLength)]) + next : input
        guard let reading = NIORequestReading(bytes) else { fatalError("the scanner read a head NIO rejects: \(input)") }
        let h = reading.head
        func agree(_ condition: Bool, _ what: String) {
            if !condition { fatalError("scanner and NIO disagree on \(what): \(String(decoding: input, as: UTF8.self).debugDescription)") }
        }
        agree(h.version == .http1_1, "the version")
        agree(head.isVerify == (h.method == .POST && h.uri == "/v1/verify"), "the verify target")
        agree(head.authorizationCount == h.headers["authorization"].count, "the Authorization count")
        agree(head.authorization == h.headers["authorization"].first, "the Authorization value")
        agree(head.idempotencyKey == h.headers["idempotency-key"].first, "the Idempotency-Key")
        agree(head.expects == h.headers.contains(name: "expect"), "Expect")
        agree(head.closes == !h.isKeepAlive, "keep-alive")
        agree(!HTTPUpgrade.requested(by: h), "an upgrade")
        guard complete else { return }
        agree(reading.ended && reading.body == head.contentLength, "where the body ends")
        if !head.closes { agree(reading.nextHead?.uri == "/next", "where the next request starts") }
    }
}
