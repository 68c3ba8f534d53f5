import Hummingbird
import MFA
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension VerifyRequest {
    /// Parses the common shape of a verify body, `{"user": "…", "code": "…"}` (members in either order,
    /// JSON whitespace allowed), without Foundation. Returns nil for anything else — escapes, other
    /// members, duplicates, other value types, bad UTF-8, malformed JSON — and the caller then hands
    /// the body to `JSONDecoder`, which stays the authority on what the API accepts.
    package init?(simpleJSON bytes: some Collection<UInt8>) {
        var user: String?
        var code: String?
        var i = bytes.startIndex
        func skipSpace() {
            while i != bytes.endIndex, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { bytes.formIndex(after: &i) }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i != bytes.endIndex, bytes[i] == byte else { return false }
            bytes.formIndex(after: &i)
            return true
        }
        /// A string without escapes or control characters.
        func string() -> String? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i != bytes.endIndex {
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") {
                    let text = String(validating: bytes[start..<i], as: UTF8.self)
                    bytes.formIndex(after: &i)
                    return text
                }
                if byte < 0x20 || byte == UInt8(ascii: "\\") { return nil }
                bytes.formIndex(after: &i)
            }
            return nil
        }
        guard expect(UInt8(ascii: "{")) else { return nil }
        for member in 0..<2 {
            if member == 1 { guard expect(UInt8(ascii: ",")) else { return nil } }
            guard let name = string(), expect(UInt8(ascii: ":")), let value = string() else { return nil }
            switch name {
            case "user" where user == nil: user = value
            case "code" where code == nil: code = value
            default: return nil
            }
        }
        guard expect(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        guard i == bytes.endIndex, let user, let code else { return nil }
        self.init(user: user, code: code)
    }
}

extension VerifyResponse {
    /// The JSON body, written directly: this is the hottest response of the API.
    var json: ByteBuffer {
        if serial == nil, result == "rejected" { return Self.rejectedJSON }
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"result":"#)
        JSONText.write(result, to: &buffer)
        if let serial {
            buffer.writeStaticString(#","serial":"#)
            JSONText.write(serial, to: &buffer)
        }
        buffer.writeStaticString("}")
        return buffer
    }

    /// The same bytes and headers on both paths that answer a verify (the route and ``VerifyFastPath``).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: Self.contentType], body: .init(byteBuffer: json))
    }

    static let contentType = "application/json; charset=utf-8"
    /// Every rejection's body: the same bytes whatever the reason.
    private static let rejectedJSON = ByteBuffer(string: #"{"result":"rejected"}"#)
}

/// JSON string literals.
enum JSONText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string, quoted and escaped.
    static func write(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0..<0x20:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hexDigits[Int(byte >> 4)])
                buffer.writeInteger(hexDigits[Int(byte & 15)])
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}

/// The `Date` response header (RFC 9110 IMF-fixdate), formatted once per second.
enum HTTPDate {
    /// `Date: …\r\nServer: …\r\n\r\n`, the end of every fast-path response head, for this second.
    private static let trailer = Mutex<(second: Int, bytes: ByteBuffer)>((-1, ByteBuffer()))

    private static let text = Mutex<(second: Int, value: String)>((-1, ""))

    /// The `Date` header's value for this second.
    static var value: String {
        let second = time(nil)
        return text.withLock { cached in
            if cached.second != second { cached = (second, format(second)) }
            return cached.value
        }
    }

    static var headTrailer: ByteBuffer {
        let second = time(nil)
        return trailer.withLock { cached in
            if cached.second != second {
                cached = (second, ByteBuffer(string: "Date: \(format(second))\r\nServer: \(serverName)\r\n\r\n"))
            }
            return cached.bytes
        }
    }

    static func format(_ second: Int) -> String {
        var t = time_t(second)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// HTTP/1.1 responses as bytes, with the headers Hummingbird writes for this server.
enum HTTPWire {
    static func response(_ status: HTTPResponse.Status, contentType: String, body: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(160 + body.readableBytes)
        if status == .ok {
            out.writeStaticString("HTTP/1.1 200 OK\r\n")
        } else {
            out.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        }
        out.writeStaticString("Content-Type: ")
        out.writeString(contentType)
        out.writeStaticString("\r\nContent-Length: ")
        out.writeString(String(body.readableBytes))
        out.writeStaticString("\r\n")
        var trailer = HTTPDate.headTrailer
        out.writeBuffer(&trailer)
        var body = body
        out.writeBuffer(&body)
        return out
    }
}

/// ASCII helpers for header names.
enum ASCII {
    /// Whether `name` equals the lowercase ASCII `lowercase`, ignoring case.
    static func equalsIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard name.utf8.count == expected.count else { return false }
        return zip(name.utf8, expected).allSatisfy { a, b in a == b || ((0x61...0x7A).contains(b) && a == b - 0x20) }
    }
}
