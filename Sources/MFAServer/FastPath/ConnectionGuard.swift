import NIOCore
import NIOHTTP1

/// Sits right after NIO's HTTP/1 decoder: sees each request as NIO read it (the authority on where
/// HTTP ends) and each of Hummingbird's responses, and keeps the connection's ``ConnectionState``.
///
/// It also ends a connection whose request asked to leave HTTP (`CONNECT`, or `Upgrade` with
/// `Connection: upgrade`), right after that request's response: NIO's decoder stops parsing once such
/// a request has ended and keeps every later byte in its buffer, unread, so a client could fill the
/// server's memory through one connection and no request after it would ever be answered. When an
/// upgrading request has ended, ``ConnectionState/tunnelled`` tells ``VerifyFastPath`` (before the
/// decoder) to drop what follows; when the responses have caught up with the requests, the
/// connection closes. The server upgrades nothing.
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: ConnectionState
    private var upgrading = false

    init(_ state: ConnectionState) { self.state = state }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { state.start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        state.start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { state.stop() }

    func channelInactive(context: ChannelHandlerContext) {
        state.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            upgrading = HTTPUpgrade.requested(by: head)
            state.hummingbirdReading = true
            state.inputPending = false
            state.hummingbirdPending += 1
        case .body:
            state.progress()
        case .end:
            state.hummingbirdReading = false
            // A body that came in a later read than its head set it again; the request is whole.
            state.inputPending = false
            if upgrading { state.tunnelled = true }
        }
        state.update()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        state.hummingbirdPending = max(0, state.hummingbirdPending - 1)
        state.update()
        guard state.tunnelled, state.hummingbirdPending == 0 else {
            context.write(data, promise: promise)
            return
        }
        // The tunnel request's response: the last this connection gets.
        context.writeAndFlush(data).whenComplete { result in
            promise?.completeWith(result)
            context.close(promise: nil)
        }
    }
}

/// NIO's (llhttp's) rule for a request after which it parses nothing more.
package enum HTTPUpgrade {
    /// `CONNECT`, or an `Upgrade` field together with the `upgrade` token in `Connection`.
    package static func requested(by head: HTTPRequestHead) -> Bool {
        if head.method == .CONNECT { return true }
        guard head.headers.contains(name: "upgrade") else { return false }
        return head.headers["connection"].contains { value in
            value.split(separator: ",").contains { $0.filter { $0 != " " && $0 != "\t" }.lowercased() == "upgrade" }
        }
    }
}
