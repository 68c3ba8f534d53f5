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
