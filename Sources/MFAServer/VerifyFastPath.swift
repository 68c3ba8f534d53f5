import EventLoopExecutor
import HTTPTypes
import HummingbirdCore
import Logging
import MFA
import NIOCore
import NIOHTTP1

/// Answers the common `POST /v1/verify` inside the connection's NIO pipeline, before Hummingbird.
///
/// Sign-in gateways send this one request far more than all others. Going through Hummingbird costs
/// more than the verification itself: the request is converted to HTTPTypes (its path through
/// Foundation's `URLComponents`), crosses from the event loop into a Swift task (NIOAsyncChannel), then
/// the router, three middlewares and Foundation's JSON coders run, and the answer goes back the same
/// way. This handler sits right after NIO's HTTP/1 decoder, reads the request as NIO parsed it, runs
/// the verification in a task on the connection's own event loop, and writes the answer as bytes.
///
/// It takes a request only when everything about it is ordinary — HTTP/1.1 keep-alive, exact path, one
/// bearer key already in the shared ``APIKeyCache`` with the `verifier` scope, a body
/// ``VerifyRequest/init(simpleJSON:)`` reads, no `Expect` — and only when no earlier request of the
/// connection is still with Hummingbird, so responses stay in request order. Anything else, including
/// every error case of authentication and decoding, goes on unchanged to Hummingbird, which stays the
/// reference for the API's behaviour. The verification itself (``VerifyEndpoint``), its metrics and
/// every byte of the answer but the `Date` are the same on both paths.
final class VerifyFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What every connection's handler shares.
    struct Shared: Sendable {
        let endpoint: VerifyEndpoint
        let keys: APIKeyCache
    }

    /// A verify request being received: its head, the key it authenticated with, its body so far.
    private struct Pending {
        let head: HTTPRequestHead
        let key: APIKeyRecord
        let idempotencyKey: String?
        var body: ByteBuffer?
    }

    private let shared: Shared
    /// Where answers are written: the HTTP/1 encoder's context, so the bytes go straight to the socket;
    /// nil once the handler has left the pipeline.
    private var output: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var forwarded = 0
    private var pending: Pending?
    /// A verify of ours is running: later requests wait in `held`, and reading from the socket pauses.
    private var answering = false
    private var held: CircularBuffer<HTTPServerRequestPart> = []
    private var readRequested = false
    private var quiesce: Any?
    /// The last `Authorization` value the cache accepted on this connection, and until when that holds.
    private var knownToken: (header: String, key: APIKeyRecord, until: ContinuousClock.Instant)?

    /// Request bodies are small JSON documents (the same bound as ``MFARequestContext/maxUploadSize``).
    static let maxBody = 64 * 1024

    init(_ shared: Shared) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) {
        output = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        output = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        take(unwrapInboundIn(data), context: context)
    }

    private func take(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if answering {
            held.append(part)
            return
        }
        switch part {
        case .head(let head):
            if forwarded == 0, output != nil, let request = ordinaryVerify(head) {
                pending = request
                return
            }
            forwarded += 1
        case .body(var chunk):
            guard var request = pending else { break }
            if (request.body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBody {
                pending = nil
                handOn(request, context: context)
                break
            }
            if request.body == nil { request.body = chunk } else { request.body!.writeBuffer(&chunk) }
            pending = request
            return
        case .end:
            guard let request = pending else { break }
            pending = nil
            let body = request.body ?? ByteBuffer()
            guard let verify = body.withUnsafeReadableBytes({ VerifyRequest(simpleJSON: $0) }) else {
                handOn(request, context: context)
                break
            }
            answer(verify, request, context: context)
            return
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// The request as the fast path takes it, or nil when Hummingbird should have it.
    private func ordinaryVerify(_ head: HTTPRequestHead) -> Pending? {
        guard head.method == .POST, head.uri == "/v1/verify", head.version == .http1_1, head.isKeepAlive else { return nil }
        var authorization: String?
        var idempotencyKey: String?
        for (name, value) in head.headers {
            if ASCII.equalsIgnoringCase(name, "authorization") {
                // Several are joined into one value by the router, which then rejects it.
                guard authorization == nil else { return nil }
                authorization = value
            } else if ASCII.equalsIgnoringCase(name, "idempotency-key") {
                if idempotencyKey == nil { idempotencyKey = value }
            } else if ASCII.equalsIgnoringCase(name, "expect") {
                return nil
            }
        }
        guard let authorization, let key = key(for: authorization), key.allows(.verifier) else { return nil }
        return Pending(head: head, key: key, idempotencyKey: idempotencyKey)
    }

    /// The API key of a `Bearer` header value: from this connection's memo while the shared cache's
    /// entry it came from is fresh, else from the shared cache (secret checked against its hash).
    private func key(for authorization: String) -> APIKeyRecord? {
        let now = ContinuousClock.now
        if let known = knownToken, now < known.until, known.header == authorization { return known.key }
        knownToken = nil
        guard authorization.hasPrefix("Bearer "), let (key, until) = shared.keys.cached(String(authorization.dropFirst(7))) else { return nil }
        knownToken = (authorization, key, until)
        return key
    }

    /// Passes a request this handler had started to collect on to Hummingbird, as it arrived.
    private func handOn(_ request: Pending, context: ChannelHandlerContext) {
        forwarded += 1
        context.fireChannelRead(wrapInboundOut(.head(request.head)))
        if let body = request.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    private func answer(_ verify: VerifyRequest, _ request: Pending, context: ChannelHandlerContext) {
        answering = true
        let endpoint = shared.endpoint
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task(executorPreference: executor) { [key = request.key, idempotencyKey = request.idempotencyKey] in
            let response: ByteBuffer
            do throws(APIError) {
                let answer = try await endpoint.run(verify, idempotencyKey: idempotencyKey, key: key)
                endpoint.metrics.recordResponse(status: 200, fastPath: true)
                response = HTTPWire.response(.ok, contentType: VerifyResponse.contentType, body: answer.json)
            } catch {
                endpoint.metrics.record(error, fastPath: true)
                response = HTTPWire.response(error.status, contentType: APIError.contentType, body: error.json)
            }
            // Back on the connection's event loop (the task prefers it), so no hop to write.
            let (handler, context) = bound.value
            handler.respond(response, context: context)
        }
    }

    private func respond(_ response: ByteBuffer, context: ChannelHandlerContext) {
        answering = false
        guard let output else { return }
        output.writeAndFlush(NIOAny(response), promise: nil)

        // What arrived meanwhile, in order; it may start another answer, which holds the rest again.
        if !held.isEmpty {
            let waiting = held
            held.removeAll()
            for part in waiting { take(part, context: context) }
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), forwarded > 0 { forwarded -= 1 }
        context.write(data, promise: promise)
    }

    /// While an answer is pending, reading more requests waits (bounds what `held` can hold).
    func read(context: ChannelHandlerContext) {
        if answering { readRequested = true } else { context.read() }
    }

    /// A graceful shutdown closes idle connections; one with an answer on the way is not idle yet.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, answering || pending != nil {
            quiesce = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Serves a connection with a ``VerifyFastPath`` in its pipeline, right after the HTTP/1 decoder of
/// `Base` (an `HTTP1Channel`, possibly inside a `TLSChannel`).
struct VerifyFastPathChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let shared: VerifyFastPath.Shared

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(VerifyFastPath(shared), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
