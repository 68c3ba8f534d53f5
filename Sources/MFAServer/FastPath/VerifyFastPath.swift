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

        /// The handler's link to the service: the shared endpoint, in a task on the connection's loop.
        var dependencies: Dependencies {
            Dependencies(keys: keys) { [self] verify, idempotencyKey, key, executor in
                let promise = executor.loop.makePromise(of: FastPathAnswer.self)
                // On the connection's own event loop (the task prefers it): no hop either way.
                Task(executorPreference: executor) { promise.succeed(await answer(verify, idempotencyKey: idempotencyKey, key: key)) }
                return promise.futureResult
            }
        }
    }

    /// What the handler needs of the server (the service in the server, a stub in its tests).
    struct Dependencies: Sendable {
        /// The shared cache the handler's keys come from (only cached `verifier` keys are answered here).
        let keys: APIKeyCache
        /// Answers a verify; the executor runs tasks on the connection's loop, where the future completes.
        let answer: @Sendable (VerifyRequest, _ idempotencyKey: String?, APIKeyRecord, EventLoopTaskExecutor) -> EventLoopFuture<FastPathAnswer>
    }

    private let dependencies: Dependencies
    /// What the connection is doing, shared with its ``ConnectionGuard`` (deadlines, tunnels).
    private let state: ConnectionState
    private var machine: FastPathStateMachine<APIKeyRecord>
    private var executor: EventLoopTaskExecutor?
    private var quiesceEvent: Any?
    private var keys = KeyMemo()

    /// Request bodies are small JSON documents (the same bound as ``MFARequestContext/maxUploadSize``).
    static let maxBody = 64 * 1024
    /// Bytes held while an answer is pending before reading pauses: one largest request. Holding back
    /// every read while answering would cost two `epoll_ctl` calls per request on connections that
    /// never pipeline.
    static let maxHeld = RequestHeadScanner.maximumHead + maxBody

    /// `enabled: false` passes every byte on (the decoder and Hummingbird serve everything).
    init(_ dependencies: Dependencies, state: ConnectionState, enabled: Bool = true) {
        self.dependencies = dependencies
        self.state = state
        machine = FastPathStateMachine(maxHeld: Self.maxHeld, passingThrough: !enabled)
    }

    convenience init(_ shared: Shared, state: ConnectionState) {
        self.init(shared.dependencies, state: state, enabled: shared.enabled)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a tunnel request NIO's decoder reads nothing more: what follows is dropped, not kept.
        guard !state.tunnelled else { return }
        var bytes = unwrapInboundIn(data)
        guard !machine.passingThrough else {
            // Bytes for the decoder: a request has begun to arrive until NIO reads its head, so a
            // trickled head meets the request timeout here too.
            state.inputPending = true
            state.update()
            context.fireChannelRead(data)
            return
        }
        machine.receive(&bytes)
        process(context: context)
    }

    /// Answers or passes on what ``FastPathStateMachine`` says, in order, until it waits.
    private func process(context: ChannelHandlerContext) {
        // ``ConnectionGuard`` counts the requests at Hummingbird: answers go out in request order.
        while let action = machine.next(hummingbirdBusy: state.hummingbirdPending > 0, tunnelled: state.tunnelled, ticket: ticket(for:)) {
            switch action {
            case .forward(let bytes):
                context.fireChannelRead(wrapInboundOut(bytes))
            case .answer(let verify, let key, let idempotencyKey):
                answer(verify, key: key, idempotencyKey: idempotencyKey, context: context)
            }
        }
        noteProgress()
        release(machine.settle(), context: context)
    }

    /// The key of a request this handler answers itself, or nil when Hummingbird should have it.
    private func ticket(for head: ScannedHead) -> APIKeyRecord? {
        guard head.isVerify, !head.expects, !head.closes, head.authorizationCount == 1, let authorization = head.authorization,
              head.contentLength <= Self.maxBody else { return nil }
        return keys.key(for: authorization, in: dependencies.keys)
    }

    /// Tells the connection's state what this handler holds (deadlines: ``ConnectionState``).
    private func noteProgress() {
        state.fastPathAnswering = machine.answering
        state.fastPathPartial = machine.holdsPartial
        state.update()
    }

    private func answer(_ verify: VerifyRequest, key: APIKeyRecord, idempotencyKey: String?, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let executor = executor ?? EventLoopTaskExecutor(context.eventLoop)
        dependencies.answer(verify, idempotencyKey, key, executor).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = bound.value
            let answer = (try? result.get()) ?? FastPathAnswer(status: .internalServerError, contentType: APIError.contentType,
                                                                body: APIError(.internalServerError, code: "internal", message: "internal error").json)
            handler.respond(HTTPWire.response(answer.status, contentType: answer.contentType, body: answer.body), context: context)
        }
    }

    private func respond(_ response: ByteBuffer, context: ChannelHandlerContext) {
        machine.answered()
        context.writeAndFlush(wrapOutboundOut(response), promise: nil)
        // What arrived meanwhile, in order; it may start another answer, which holds the rest again.
        let waiting = machine.unread.readableBytes > 0
        process(context: context)
        if waiting { context.fireChannelReadComplete() }
    }

    /// Passes on what waited for this handler's answer or its partial request.
    private func release(_ settled: FastPathStateMachine<APIKeyRecord>.Settled, context: ChannelHandlerContext) {
        if settled.quiesce, let event = quiesceEvent {
            quiesceEvent = nil
            context.fireUserInboundEventTriggered(event)
        }
        if settled.inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        if settled.read { context.read() }
    }

    func read(context: ChannelHandlerContext) {
        if machine.mayRead() { context.read() }
    }

    /// A graceful shutdown closes idle connections, and a half-close ends Hummingbird's reading: one
    /// with an answer on the way (or part of a verify here) is not done yet.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !machine.mayQuiesce() {
            quiesceEvent = event
            return
        }
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, !machine.mayCloseInput() { return }
        context.fireUserInboundEventTriggered(event)
    }
}

extension VerifyFastPath.Shared {
    /// A verify's answer as the fast path writes it: the route's work (``VerifyEndpoint``), counted as
    /// a fast-path response.
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

/// A fast path's answer before it is framed as bytes.
struct FastPathAnswer: Sendable {
    let status: HTTPResponse.Status
    let contentType: String
    let body: ByteBuffer
}

/// The last `Authorization` value the shared cache accepted on a connection, and until when that
/// holds, so a connection that verifies again and again checks its key's secret once per cache entry.
struct KeyMemo {
    private var known: (header: String, key: APIKeyRecord, until: ContinuousClock.Instant, generation: Int)?

    /// The `verifier` key of a `Bearer` header value: from the memo while the cache entry it came
    /// from is fresh (and the cache was not emptied since), else from `cache` (secret checked against
    /// its hash); nil otherwise.
    mutating func key(for authorization: String, in cache: APIKeyCache) -> APIKeyRecord? {
        let now = ContinuousClock.now
        let generation = cache.generation
        if let known, now < known.until, known.generation == generation, known.header.hasSameBytes(as: authorization) { return known.key }
        known = nil
        guard authorization.hasPrefix("Bearer "), let (key, until) = cache.cached(String(authorization.dropFirst(7))), key.allows(.verifier) else { return nil }
        known = (authorization, key, until, generation)
        return key
    }
}
