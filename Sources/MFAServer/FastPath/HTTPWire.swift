import HTTPTypes
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The `Date` response header (RFC 9110 IMF-fixdate), formatted once per second.
enum HTTPDate {
    /// `Date: …\r\nServer: …\r\n\r\n`, the end of every fast-path response head, for this second.
    private static let trailer = Mutex<(second: Int, bytes: ByteBuffer)>((-1, ByteBuffer()))

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
