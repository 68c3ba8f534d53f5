import NIOCore
import NIOEmbedded
import NIOHTTP1

/// How NIO's HTTP/1 decoder (llhttp) reads the first request in some bytes: the reference the verify
/// fast path's own head scanner is held to, by the differential test and by the fuzzer alike.
public struct NIORequestReading {
    /// The first request's head.
    public var head: HTTPRequestHead
    /// Body bytes NIO delivered for it, and whether it ended.
    public var body = 0
    public var ended = false
    /// The head of the request after it, if NIO found one.
    public var nextHead: HTTPRequestHead?

    /// NIO's reading of `bytes`; nil when NIO rejects the first request before it ends.
    public init?(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish() }
        var parts: [HTTPServerRequestPart] = []
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) { parts.append(part) }
        } catch {
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) { parts.append(part) }
            // Parts before the error stand only if the first request ended before it.
            guard parts.contains(where: { if case .end = $0 { true } else { false } }) else { return nil }
        }
        guard case .head(let head)? = parts.first else { return nil }
        self.head = head
        for part in parts.dropFirst() {
            switch part {
            case .body(let chunk) where !ended: body += chunk.readableBytes
            case .end where !ended: ended = true
            case .head(let next) where ended && nextHead == nil: nextHead = next
            default: break
            }
        }
    }
}
