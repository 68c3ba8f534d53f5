/// The head of one HTTP/1.1 request, as ``RequestHeadScanner`` reads it: where it ends, how long its
/// body is, and the few fields the verify fast path looks at.
package struct ScannedHead: Sendable, Equatable {
    /// Bytes of the head, the empty line that ends it included; the body follows.
    package var length: Int
    /// `POST /v1/verify`, exactly.
    package var isVerify = false
    /// The body's length (`Content-Length`, 0 without one).
    package var contentLength = 0
    /// The first `Authorization` value, and how many there were.
    package var authorization: String?
    package var authorizationCount = 0
    /// The first `Idempotency-Key` value.
    package var idempotencyKey: String?
    /// An `Expect` header is present.
    package var expects = false
    /// `Connection: close`: the connection ends after this request's response.
    package var closes = false
}

/// What the scanner made of the bytes at the start of a connection's unread input.
package enum HeadScan: Sendable, Equatable {
    /// The head has not fully arrived, and nothing so far is out of the ordinary.
    case incomplete
    /// Something this scanner does not delimit with certainty (another HTTP version, chunked or
    /// upgraded framing, obsolete line folding, bytes outside the plain grammar, a very long head):
    /// NIO's HTTP/1 decoder gets the connection's bytes from here on and is the authority on them.
    case unusual
    /// A complete head it understood.
    case head(ScannedHead)
}

/// Reads HTTP/1.1 request heads straight from the connection's bytes, for ``VerifyFastPath``: a strict
/// subset of RFC 9112 (request line `METHOD SP target SP HTTP/1.1`, header fields `token ":" OWS
/// value OWS` with visible ASCII values, CRLF line ends, framing only by `Content-Length`). Whatever
/// falls outside is ``HeadScan/unusual``, never guessed at; a test checks every head it reads against
/// NIO's decoder.
package enum RequestHeadScanner {
    /// Longest head read here (NIO's decoder takes longer ones).
    static let maximumHead = 8 * 1024
    /// Header fields read here at most.
    static let maximumFields = 64

    package static func scan(_ bytes: UnsafeRawBufferPointer) -> HeadScan {
        let count = bytes.count
        // The end of the head: the first empty line.
        var end = -1
        var i = 0
        let limit = min(count, maximumHead)
        while i + 3 < limit {
            if bytes[i] == cr, bytes[i + 1] == lf, bytes[i + 2] == cr, bytes[i + 3] == lf {
                end = i
                break
            }
            i += 1
        }
        guard end >= 0 else {
            if count >= maximumHead { return .unusual }
            // Not all here yet: wait, unless what has arrived already cannot be a plain head.
            for j in 0..<count {
                guard isHeadByte(bytes[j]) else { return .unusual }
                if bytes[j] == lf, j == 0 || bytes[j - 1] != cr { return .unusual }
                if bytes[j] == cr, j + 1 < count, bytes[j + 1] != lf { return .unusual }
            }
            return count > 0 && !isMethodByte(bytes[0]) ? .unusual : .incomplete
        }
        var head = ScannedHead(length: end + 4)

        // Request line.
        var p = 0
        let methodStart = p
        while p < end, isMethodByte(bytes[p]) { p += 1 }
        let methodEnd = p
        guard isKnownMethod(bytes, methodStart, methodEnd), p < end, bytes[p] == sp else { return .unusual }
        p += 1
        // Origin form only (a path), as API requests are.
        let targetStart = p
        while p < end, bytes[p] > sp, bytes[p] < 0x7F { p += 1 }
        let targetEnd = p
        guard targetEnd > targetStart, bytes[targetStart] == UInt8(ascii: "/"), p < end, bytes[p] == sp else { return .unusual }
        p += 1
        guard equals(bytes, p, end, "HTTP/1.1") else { return .unusual }
        p += 8
        if p < end {
            guard p + 1 < end, bytes[p] == cr, bytes[p + 1] == lf else { return .unusual }
            p += 2
        }
        head.isVerify = methodEnd - methodStart == 4 && equals(bytes, methodStart, methodEnd, "POST")
            && targetEnd - targetStart == 10 && equals(bytes, targetStart, targetEnd, "/v1/verify")

        // Header fields, one per line, up to the empty line at `end`.
        var fields = 0
        var contentLength: Int?
        while p < end {
            fields += 1
            guard fields <= maximumFields else { return .unusual }
            let nameStart = p
            while p < end, isTokenByte(bytes[p]) { p += 1 }
            let nameEnd = p
            guard nameEnd > nameStart, p < end, bytes[p] == colon else { return .unusual }
            p += 1
            while p < end, bytes[p] == sp || bytes[p] == tab { p += 1 }
            let valueStart = p
            while p < end, bytes[p] != cr {
                let byte = bytes[p]
                guard byte == tab || (byte >= sp && byte < 0x7F) else { return .unusual }
                p += 1
            }
            // Values as NIO's decoder gives them: trailing white space kept (framing fields with it
            // are left to NIO).
            let valueEnd = p
            // A line ends with CRLF; the last one ends where the empty line starts.
            if p < end {
                guard p + 1 < end, bytes[p + 1] == lf else { return .unusual }
                p += 2
                // A line that starts with white space continues the previous one (obsolete folding).
                guard p >= end || (bytes[p] != sp && bytes[p] != tab) else { return .unusual }
            }
            switch nameEnd - nameStart {
            case 14 where equalsIgnoringCase(bytes, nameStart, "content-length"):
                guard contentLength == nil, valueEnd > valueStart, valueEnd - valueStart <= 9 else { return .unusual }
                var value = 0
                for j in valueStart..<valueEnd {
                    guard bytes[j] >= 0x30, bytes[j] <= 0x39 else { return .unusual }
                    value = value * 10 + Int(bytes[j] - 0x30)
                }
                contentLength = value
            case 17 where equalsIgnoringCase(bytes, nameStart, "transfer-encoding"),
                 7 where equalsIgnoringCase(bytes, nameStart, "upgrade"):
                return .unusual
            case 10 where equalsIgnoringCase(bytes, nameStart, "connection"):
                if valueEnd - valueStart == 5, equalsIgnoringCase(bytes, valueStart, "close") {
                    head.closes = true
                } else if !(valueEnd - valueStart == 10 && equalsIgnoringCase(bytes, valueStart, "keep-alive")) {
                    return .unusual
                }
            case 13 where equalsIgnoringCase(bytes, nameStart, "authorization"):
                head.authorizationCount += 1
                if head.authorization == nil { head.authorization = string(bytes, valueStart, valueEnd) }
            case 15 where equalsIgnoringCase(bytes, nameStart, "idempotency-key"):
                if head.idempotencyKey == nil { head.idempotencyKey = string(bytes, valueStart, valueEnd) }
            case 6 where equalsIgnoringCase(bytes, nameStart, "expect"):
                head.expects = true
            default:
                break
            }
        }
        head.contentLength = contentLength ?? 0
        return .head(head)
    }

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), sp = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")

    /// Bytes a plain head may hold at all.
    private static func isHeadByte(_ byte: UInt8) -> Bool {
        (byte >= sp && byte < 0x7F) || byte == tab || byte == cr || byte == lf
    }

    /// Methods here are upper-case letters (all the standard ones are).
    private static func isMethodByte(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }

    /// The methods of RFC 9110 but CONNECT, and PATCH (NIO's decoder rejects names it does not know).
    /// CONNECT is unusual: NIO's decoder stops parsing after it (the connection becomes a tunnel),
    /// so nothing after it on the connection is a request for either path.
    private static func isKnownMethod(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        switch end - start {
        case 3: equals(bytes, start, end, "GET") || equals(bytes, start, end, "PUT")
        case 4: equals(bytes, start, end, "POST") || equals(bytes, start, end, "HEAD")
        case 5: equals(bytes, start, end, "PATCH") || equals(bytes, start, end, "TRACE")
        case 6: equals(bytes, start, end, "DELETE")
        case 7: equals(bytes, start, end, "OPTIONS")
        default: false
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// Whether `bytes[start...]` begins with `text` (and `text` fits before `end`).
    private static func equals(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard end - start >= n else { return false }
        for k in 0..<n where bytes[start + k] != text.utf8Start[k] { return false }
        return true
    }

    /// Whether `bytes[start...]` begins with the lower-case `text`, ignoring ASCII case.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard bytes.count - start >= n else { return false }
        for k in 0..<n {
            let byte = bytes[start + k]
            let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            guard lower == text.utf8Start[k] else { return false }
        }
        return true
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}
