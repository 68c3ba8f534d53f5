import HTTPTypes
import HummingbirdCore
import MFA
import NIOCore
import NIOHTTPTypes

/// Answers the common `POST /v1/verify` inside the connection's NIO pipeline, before Hummingbird.
///
/// Sign-in gateways send this one request far more than all others. Going through Hummingbird costs
/// more than the verification itself: the parsed request crosses from the event loop into a Swift task
/// (NIOAsyncChannel), then the router, three middlewares and Foundation's JSON coders run. On two cores
/// that stack alone took ~80 µs of CPU per request; this handler needs ~30 µs for the same answer.
///
/// It takes a request only when everything about it is ordinary — exact path, a bearer key already in
/// the shared ``APIKeyCache`` with the `verifier` scope, a body ``VerifyRequest/init(simpleJSON:)``
/// reads, no `Expect`, no `Connection: close` — and only when no earlier request of the connection is
/// still with Hummingbird, so responses stay in request order. Anything else, including every error
/// case of authentication and decoding, goes on unchanged to Hummingbird, which stays the reference
/// for the API's behaviour. The verification itself (``VerifyEndpoint``), its metrics and every byte of
/// the answer are the same on both paths.
final class VerifyFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What every connection's handler shares.
    struct Shared: Sendable {
        let endpoint: VerifyEndpoint
        let keys: APIKeyCache
    }

    /// A verify request being received: its head, the key it authenticated with, its body so far.
    private struct Pending {
        let head: HTTPRequest
        let key: APIKeyRecord
        var body: ByteBuffer?
    }

    private let shared: Shared
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var forwarded = 0
    private var pending: Pending?
    /// A verify of ours is running: later requests wait in `held`, and reading from the socket pauses.
    private var answering = false
    private var held: CircularBuffer<HTTPRequestPart> = []
    private var readRequested = false
    private var quiesce: Any?
    private var removed = false

    /// Request bodies are small JSON documents (the same bound as ``MFARequestContext/maxUploadSize``).
    static let maxBody = 64 * 1024

    init(_ shared: Shared) { self.shared = shared }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        take(unwrapInboundIn(data), context: context)
    }

    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        if answering {
            held.append(part)
            return
        }
        switch part {
        case .head(let head):
            if forwarded == 0, let key = ordinaryVerify(head) {
                pending = Pending(head: head, key: key)
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

    /// The API key of an ordinary verify request, or nil when Hummingbird should have it.
    private func ordinaryVerify(_ head: HTTPRequest) -> APIKeyRecord? {
        guard head.method == .post, head.path == "/v1/verify", head.headerFields[.expect] == nil else { return nil }
        if let connection = head.headerFields[.connection], connection.lowercased() != "keep-alive" { return nil }
        guard let authorization = head.headerFields[.authorization], authorization.hasPrefix("Bearer "),
              let key = shared.keys.cached(String(authorization.dropFirst(7))), key.allows(.verifier) else { return nil }
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
        let key = request.key
        let idempotencyKey = VerifyEndpoint.idempotencyKey(request.head.headerFields)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task(executorPreference: executor(context.eventLoop)) {
            let status: HTTPResponse.Status
            let contentType: String
            let body: ByteBuffer
            do throws(APIError) {
                let response = try await endpoint.run(verify, idempotencyKey: idempotencyKey, key: key)
                endpoint.metrics.recordResponse(status: 200, fastPath: true)
                (status, contentType, body) = (.ok, VerifyResponse.contentType, response.json)
            } catch {
                endpoint.metrics.record(error, fastPath: true)
                (status, contentType, body) = (error.status, APIError.contentType, error.json)
            }
            // Back on the connection's event loop (the task prefers it), so no hop to write.
            let (handler, context) = bound.value
            handler.respond(status: status, contentType: contentType, body: body, context: context)
        }
    }

    private var loopExecutor: EventLoopTaskExecutor?
    private func executor(_ loop: any EventLoop) -> EventLoopTaskExecutor {
        if let loopExecutor { return loopExecutor }
        let made = EventLoopTaskExecutor(loop)
        loopExecutor = made
        return made
    }

    private func respond(status: HTTPResponse.Status, contentType: String, body: ByteBuffer, context: ChannelHandlerContext) {
        answering = false
        guard !removed else { return }
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.contentLength] = String(body.readableBytes)
        fields[.date] = HTTPDate.now
        fields[.server] = serverName
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)

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

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }
}

/// Runs Swift Concurrency jobs on one NIO event loop: a task that prefers this executor runs its
/// nonisolated code on the loop's thread, so it can touch the channel without a hop.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
