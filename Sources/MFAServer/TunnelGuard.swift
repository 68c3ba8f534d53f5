import NIOCore
import NIOHTTP1

/// Ends a connection whose request asked to leave HTTP (`CONNECT`, or `Upgrade` with `Connection:
/// upgrade`), right after that request's response.
///
/// NIO's HTTP/1 decoder stops parsing once such a request has ended and keeps every later byte in its
/// buffer, unread: a client could fill the server's memory through one connection, and no request
/// after it would ever be answered. This handler sits right after the decoder, so it sees requests as
/// NIO read them (the authority on where HTTP ends): when an upgrading request has ended it tells the
/// ``VerifyFastPath`` before the decoder to drop what follows, and when the responses have caught up
/// with the requests it closes the connection. The server upgrades nothing.
final class TunnelGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let fastPath: VerifyFastPath
    private var upgrading = false
    private var stopped = false
    private var requestsEnded = 0
    private var responsesEnded = 0

    init(_ fastPath: VerifyFastPath) { self.fastPath = fastPath }

    /// Whether NIO's decoder (llhttp) treats the request as an upgrade: `CONNECT`, or an `Upgrade`
    /// field together with the `upgrade` token in `Connection`.
    static func upgrades(_ head: HTTPRequestHead) -> Bool {
        if head.method == .CONNECT { return true }
        guard head.headers.contains(name: "upgrade") else { return false }
        return head.headers["connection"].contains { value in
            value.split(separator: ",").contains { $0.filter { $0 != " " && $0 != "\t" }.lowercased() == "upgrade" }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            upgrading = Self.upgrades(head)
        case .body:
            break
        case .end:
            requestsEnded += 1
            if upgrading {
                stopped = true
                fastPath.tunnelled = true
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        responsesEnded += 1
        guard stopped, responsesEnded >= requestsEnded else {
            context.write(data, promise: promise)
            return
        }
        context.writeAndFlush(data).whenComplete { result in
            promise?.completeWith(result)
            context.close(promise: nil)
        }
    }
}
