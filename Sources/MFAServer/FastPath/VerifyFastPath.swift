import EventLoopExecutor
import HTTPTypes
import HummingbirdCore
import Logging
import MFA
import NIOCore
import NIOHTTP1

/// Answers the common `POST /v1/verify` straight from the connection's bytes, before NIO's HTTP/1
/// decoder and Hummingbird.
///
/// Sign-in gateways send this one request far more than all others. Going through Hummingbird costs
/// more than the verification itself: NIO's decoder builds the request's head and header strings,
/// the request is converted to HTTPTypes (its path through Foundation's `URLComponents`), crosses from
/// the event loop into a Swift task (NIOAsyncChannel), then the router, three middlewares and
/// Foundation's JSON coders run, and the answer goes back the same way. This handler sits first in the
/// connection's pipeline (``MFAHTTPChannel`` lays it out), on the socket's side of NIO's HTTP/1
/// encoder and decoder; it reads each request's head with ``RequestHeadScanner``, runs the
/// verification in a task on the connection's own event loop, and writes the answer as bytes.
///
/// It answers a request only when everything about it is ordinary — `POST /v1/verify` over HTTP/1.1
/// on a kept-alive connection, one bearer key already in the shared ``APIKeyCache`` with the
/// `verifier` scope, a body ``VerifyRequest/init(simpleJSON:)`` reads, no `Expect` — and only when no
/// earlier request of the connection is still with Hummingbird, so responses stay in request order.
/// Any other request it can delimit (by `Content-Length`) goes on, bytes unchanged, to the decoder and
/// Hummingbird, which stay the reference for the API's behaviour (every error case of authentication
/// and decoding included); after it the connection can come back here. Bytes the scanner calls
/// unusual send the connection to the decoder for good. The verification itself
/// (``VerifyEndpoint``), its metrics and every byte of the answer but the `Date` are the same on both
/// paths.
final class VerifyFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What every connection's handler shares.
    struct Shared: Sendable {
        let endpoint: VerifyEndpoint
        let keys: APIKeyCache
        /// False: every request goes on to the decoder and Hummingbird (`serve --no-fast-path`,
        /// `--access-log`); the connection guard still applies.
        var enabled = true
        /// Where the fast path reads requests: from the bytes (this handler) or from NIO's decoded
        /// parts (``DecodedVerifyFastPath``). Both are kept until the benchmark decides (issue 18).
        var placement = FastPathPlacement.bytes
    }

    private let shared: Shared
    /// What the connection is doing, shared with its ``ConnectionGuard`` (deadlines, tunnels).
    private let state: ConnectionState
    /// Where answers are written: this handler's context, on the socket's side of the HTTP/1 encoder,
    /// so the bytes go straight out; nil once the handler has left the pipeline.
    private var output: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    /// Bytes received and not yet answered or passed on.
    private var unread = ByteBuffer()
    /// Body bytes of a request passed on to the decoder that have yet to arrive and follow it.
    private var bodyToPassOn = 0
    /// The decoder has the connection for good: every byte goes straight on.
    private var passingThrough = false
    /// A verify of ours is running: later bytes wait in `unread` (reading pauses once they fill it).
    private var answering = false
    private var readRequested = false
    private var quiesce: Any?
    private var keys = KeyMemo()

    /// Request bodies are small JSON documents (the same bound as ``MFARequestContext/maxUploadSize``).
    static let maxBody = 64 * 1024

    init(_ shared: Shared, state: ConnectionState) {
        self.shared = shared
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        output = context
        executor = EventLoopTaskExecutor(context.eventLoop)
        if !shared.enabled || shared.placement != .bytes { passingThrough = true }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        output = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a tunnel request NIO's decoder reads nothing more: what follows is dropped, not kept.
        guard !state.tunnelled else { return }
        guard !passingThrough else {
            // Bytes for the decoder: a request has begun to arrive until NIO reads its head, so a
            // trickled head meets the request timeout here too.
            state.inputPending = true
            state.update()
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        unread.writeBuffer(&bytes)
        if !answering { process(context: context) }
        noteProgress()
    }

    /// Answers or passes on the requests in `unread`, in order, until one is incomplete or answering.
    private func process(context: ChannelHandlerContext) {
        while !answering, !passingThrough, !state.tunnelled, unread.readableBytes > 0 {
            if bodyToPassOn > 0 {
                let count = min(bodyToPassOn, unread.readableBytes)
                bodyToPassOn -= count
                context.fireChannelRead(wrapInboundOut(unread.readSlice(length: count)!))
                continue
            }
            let scan = unread.withUnsafeReadableBytes { RequestHeadScanner.scan($0) }
            switch scan {
            case .incomplete:
                unread.discardReadBytes()
                return
            case .unusual:
                passingThrough = true
                let rest = unread
                unread = ByteBuffer()
                context.fireChannelRead(wrapInboundOut(rest))
                return
            case .head(let head):
                // Only with no request of the connection still at Hummingbird (``ConnectionGuard``
                // counts them): answers go out in request order.
                if state.hummingbirdPending == 0, let key = ordinaryVerify(head) {
                    guard unread.readableBytes >= head.length + head.contentLength else {
                        unread.discardReadBytes()
                        return  // the body is still on its way
                    }
                    let body = unread.getSlice(at: unread.readerIndex + head.length, length: head.contentLength)!
                    if let verify = body.withUnsafeReadableBytes({ VerifyRequest(simpleJSON: $0) }) {
                        unread.moveReaderIndex(forwardBy: head.length + head.contentLength)
                        answer(verify, key: key, idempotencyKey: head.idempotencyKey, context: context)
                        return
                    }
                }
                // Hummingbird's: the head now, the body as it arrives.
                context.fireChannelRead(wrapInboundOut(unread.readSlice(length: head.length)!))
                bodyToPassOn = head.contentLength
                // After `Connection: close` nothing more is served on the connection, by either path.
                if head.closes { passingThrough = true }
            }
        }
        if state.tunnelled { unread = ByteBuffer() }
        if unread.readableBytes == 0 { unread.clear() }
        if passingThrough, unread.readableBytes > 0 {
            let rest = unread
            unread = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(rest))
        }
    }

    /// The key of a request this handler answers itself, or nil when Hummingbird should have it.
    private func ordinaryVerify(_ head: ScannedHead) -> APIKeyRecord? {
        guard head.isVerify, !head.expects, !head.closes, head.authorizationCount == 1, let authorization = head.authorization,
              head.contentLength <= Self.maxBody, let key = keys.key(for: authorization, in: shared.keys)
        else { return nil }
        return key
    }


    /// Tells the connection's state what this handler holds (deadlines: ``ConnectionState``).
    private func noteProgress() {
        state.fastPathAnswering = answering
        state.fastPathPartial = !passingThrough && !answering && (unread.readableBytes > 0 || bodyToPassOn > 0)
        state.update()
    }

    private func answer(_ verify: VerifyRequest, key: APIKeyRecord, idempotencyKey: String?, context: ChannelHandlerContext) {
        answering = true
        let shared = shared
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task(executorPreference: executor) {
            let answer = await shared.answer(verify, idempotencyKey: idempotencyKey, key: key)
            let response = HTTPWire.response(answer.status, contentType: answer.contentType, body: answer.body)
            // Back on the connection's event loop (the task prefers it), so no hop to write.
            let (handler, context) = bound.value
            handler.respond(response, context: context)
        }
    }

    private func respond(_ response: ByteBuffer, context: ChannelHandlerContext) {
        answering = false
        guard let output else { return }
        output.writeAndFlush(NIOAny(response), promise: nil)
        defer { noteProgress() }

        // What arrived meanwhile, in order; it may start another answer, which holds the rest again.
        if unread.readableBytes > 0 {
            process(context: context)
            context.fireChannelReadComplete()
        }
        guard !answering else { return }
        if let event = quiesce {
            quiesce = nil
            context.fireUserInboundEventTriggered(event)
        }
        if readRequested {
            readRequested = false
            context.read()
        }
    }

    /// While an answer is pending, reading goes on until `unread` holds a request's worth, then waits
    /// (a client that pipelines cannot make it grow without bound). Holding back every read while
    /// answering would cost two `epoll_ctl` calls per request on connections that never pipeline.
    func read(context: ChannelHandlerContext) {
        if answering, unread.readableBytes >= Self.maxHeld { readRequested = true } else { context.read() }
    }

    /// Bytes `unread` may hold while an answer is pending before reading pauses: one largest request.
    static let maxHeld = RequestHeadScanner.maximumHead + maxBody

    /// A graceful shutdown closes idle connections; one with an answer on the way is not idle yet.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, answering {
            quiesce = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension VerifyFastPath.Shared {
    /// A verify's answer as either fast path writes it: the route's work (``VerifyEndpoint``), counted
    /// as a fast-path response.
    func answer(_ verify: VerifyRequest, idempotencyKey: String?, key: APIKeyRecord) async -> FastPathAnswer {
        do throws(APIError) {
            let answer = try await endpoint.run(verify, idempotencyKey: idempotencyKey, key: key)
            endpoint.metrics.recordResponse(status: 200, fastPath: true)
            return FastPathAnswer(status: .ok, contentType: VerifyResponse.contentType, body: answer.json)
        } catch {
            endpoint.metrics.record(error, fastPath: true)
            return FastPathAnswer(status: error.status, contentType: APIError.contentType, body: error.json)
        }
    }
}

/// A fast path's answer before it is framed (as bytes, or as NIO's response parts).
struct FastPathAnswer: Sendable {
    let status: HTTPResponse.Status
    let contentType: String
    let body: ByteBuffer
}

/// The last `Authorization` value the shared cache accepted on a connection, and until when that
/// holds, so a connection that verifies again and again checks its key's secret once per cache entry.
struct KeyMemo {
    private var known: (header: String, key: APIKeyRecord, until: ContinuousClock.Instant)?

    /// The `verifier` key of a `Bearer` header value: from the memo while the cache entry it came
    /// from is fresh, else from `cache` (secret checked against its hash); nil otherwise.
    mutating func key(for authorization: String, in cache: APIKeyCache) -> APIKeyRecord? {
        let now = ContinuousClock.now
        if let known, now < known.until, known.header.hasSameBytes(as: authorization) { return known.key }
        known = nil
        guard authorization.hasPrefix("Bearer "), let (key, until) = cache.cached(String(authorization.dropFirst(7))), key.allows(.verifier) else { return nil }
        known = (authorization, key, until)
        return key
    }
}

/// Where the verify fast path reads requests: from the connection's bytes, before NIO's decoder
/// (``VerifyFastPath``), or from the decoder's parts (``DecodedVerifyFastPath``).
public enum FastPathPlacement: String, Sendable {
    case bytes, decoded
}
