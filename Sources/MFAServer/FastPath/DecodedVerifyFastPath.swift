import EventLoopExecutor
import HTTPTypes
import MFA
import NIOCore
import NIOHTTP1

/// ``VerifyFastPath``'s work done after NIO's HTTP/1 decoder instead of before it: ordinary verifies
/// are answered from NIO's request parts, with no hand-written head parsing; everything else goes on
/// to Hummingbird unchanged. The decisions are ``FastPathStateMachine``'s.
///
/// It sits right after ``ConnectionGuard`` (which sees its answers as it sees Hummingbird's) and
/// before `HTTP1ToHTTPServerCodec`, writes its answers as NIO response parts through the encoder, and
/// hands the verification to ``Dependencies/answer`` (the service in the server, a stub in its tests).
final class DecodedVerifyFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler needs of the server.
    struct Dependencies: Sendable {
        /// The shared cache the handler's keys come from (only cached `verifier` keys are answered here).
        let keys: APIKeyCache
        /// Answers a verify, completing on any loop (the handler hops back to its own); the executor
        /// runs tasks on the connection's loop.
        let answer: @Sendable (VerifyRequest, _ idempotencyKey: String?, APIKeyRecord, EventLoopTaskExecutor) -> EventLoopFuture<FastPathAnswer>
    }

    /// What an answer needs besides the body: the key, the idempotency key.
    struct Ticket {
        let key: APIKeyRecord
        let idempotencyKey: String?
    }

    private let dependencies: Dependencies
    private var machine = FastPathStateMachine<Ticket>(maxBody: VerifyFastPath.maxBody, maxHeld: VerifyFastPath.maxHeld)
    private var keys = KeyMemo()
    private var quiesceEvent: Any?
    private var executor: EventLoopTaskExecutor?

    init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    /// The server's dependencies: the shared endpoint, in a task on the connection's event loop.
    static func serving(_ shared: VerifyFastPath.Shared) -> Dependencies {
        Dependencies(keys: shared.keys) { verify, idempotencyKey, key, executor in
            let promise = executor.loop.makePromise(of: FastPathAnswer.self)
            // On the connection's loop, as ``VerifyFastPath`` runs its verifies: no hop either way.
            Task(executorPreference: executor) { promise.succeed(await shared.answer(verify, idempotencyKey: idempotencyKey, key: key)) }
            return promise.futureResult
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(unwrapInboundIn(data), context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch machine.received(part, ticket: ticket(for:)) {
        case .wait:
            return
        case .forward(let parts):
            for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
        case .answer(let head, let body, let ticket):
            guard let verify = body.withUnsafeReadableBytes({ VerifyRequest(simpleJSON: $0) }) else {
                // Not a body this path reads: Hummingbird's decoder is the authority on it.
                for part in machine.declined(head: head, body: body) { context.fireChannelRead(wrapInboundOut(part)) }
                release(machine.settle(), context: context)
                return
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let executor = executor ?? EventLoopTaskExecutor(context.eventLoop)
            dependencies.answer(verify, ticket.idempotencyKey, ticket.key, executor).hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = bound.value
                let answer = (try? result.get()) ?? FastPathAnswer(status: .internalServerError, contentType: APIError.contentType,
                                                                    body: APIError(.internalServerError, code: "internal", message: "internal error").json)
                handler.respond(answer, context: context)
            }
        }
    }

    /// The ticket of an ordinary verify this handler may answer, or nil for Hummingbird's requests.
    private func ticket(for head: HTTPRequestHead) -> Ticket? {
        guard head.method == .POST, head.uri == "/v1/verify", head.version == .http1_1, head.isKeepAlive,
              !head.headers.contains(name: "expect"), !head.headers.contains(name: "transfer-encoding") else { return nil }
        let authorization = head.headers["authorization"]
        guard authorization.count == 1, let key = keys.key(for: authorization[0], in: dependencies.keys) else { return nil }
        return Ticket(key: key, idempotencyKey: head.headers.first(name: "idempotency-key"))
    }

    private func respond(_ answer: FastPathAnswer, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.readableBytes))
        headers.add(name: "Date", value: HTTPDate.value)
        headers.add(name: "Server", value: serverName)
        let status = HTTPResponseStatus(statusCode: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)

        // What arrived meanwhile, in order; it may start another answer, which holds the rest again.
        let held = machine.answered()
        for part in held { handle(part, context: context) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        release(machine.settle(), context: context)
    }

    /// Passes on what waited for the handler's request to be done with.
    private func release(_ settled: FastPathStateMachine<Ticket>.Settled, context: ChannelHandlerContext) {
        if settled.quiesce, let event = quiesceEvent {
            quiesceEvent = nil
            context.fireUserInboundEventTriggered(event)
        }
        if settled.inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        if settled.read { context.read() }
    }

    /// Hummingbird's responses pass here: the end of one lets a later verify be answered here again.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { machine.responseEnded() }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if machine.mayRead() { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !machine.mayQuiesce() {
            quiesceEvent = event
            return
        }
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, !machine.mayCloseInput() { return }
        context.fireUserInboundEventTriggered(event)
    }
}
