import EventLoopExecutor
import Foundation
import MFA
@testable import MFAServer
import MFAStoreSQLite
import NIOCore
import NIOEmbedded
import NIOHTTP1
import OTP
import Synchronization
import Testing

/// ``VerifyFastPath`` in front of NIO's real HTTP/1 encoder and decoder and ``ConnectionGuard``, on an
/// `EmbeddedChannel`: no sockets, every answer released by the test, so order, holding,
/// back-pressure, quiesce and half-close are each seen at the moment they happen.
@Suite("Fast path on EmbeddedChannel: order, holding, back-pressure, quiesce, half-close")
struct FastPathTests {
    /// Verifies handed to the (stub) service, each waiting for the test to answer it.
    final class Answers: Sendable {
        let pending = Mutex<[(request: VerifyRequest, promise: EventLoopPromise<FastPathAnswer>)]>([])
        var count: Int { pending.withLock { $0.count } }

        /// Answers the oldest pending verify with `{"result":"rejected"}` (or `body`).
        func answerNext(_ body: String = #"{"result":"rejected"}"#) {
            let next = pending.withLock { $0.removeFirst() }
            next.promise.succeed(FastPathAnswer(status: .ok, contentType: VerifyResponse.contentType, body: ByteBuffer(string: body)))
        }
        func users() -> [String] { pending.withLock { $0.map(\.request.user) } }
    }

    /// Counts the reads that reach the socket's side, and the events that reach Hummingbird's side.
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    final class EventRecorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        var events: [String] = []
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            events.append(event is ChannelShouldQuiesceEvent ? "quiesce" : (event as? ChannelEvent) == .inputClosed ? "inputClosed" : "other")
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }
    }

    struct Harness {
        let channel: EmbeddedChannel
        let answers: Answers
        let reads: ReadCounter
        let events: EventRecorder
        let token: String
        let keys: APIKeyCache

        /// Writes `text` as bytes from the client.
        func send(_ text: String) throws { try channel.writeInbound(ByteBuffer(string: text)) }

        /// Everything the server wrote so far, as text.
        func written() throws -> String {
            var out = ""
            while let buffer = try channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let bytes) = buffer { out += String(buffer: bytes) }
            }
            return out
        }

        /// The request parts passed on to Hummingbird so far, as `HEAD uri` / `BODY text` / `END`.
        func forwarded() throws -> [String] {
            var parts: [String] = []
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head): parts.append("HEAD \(head.uri)")
                case .body(let body): parts.append("BODY \(String(buffer: body))")
                case .end: parts.append("END")
                }
            }
            return parts
        }

        /// Hummingbird's response to one forwarded request, written from the pipeline's tail.
        func hummingbirdResponds() throws {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "ok"))))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }

        func verify(_ user: String, token: String? = nil, body: String? = nil) -> String {
            let body = body ?? #"{"user":"\#(user)","code":"123456"}"#
            return "POST /v1/verify HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token ?? self.token)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
    }

    /// The server's pipeline without Hummingbird (the handler, NIO's encoder and decoder, the guard)
    /// and the recorders; a cached verifier key.
    static func harness() async throws -> Harness {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-fastpath-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        let store = try SQLiteMFAStore(path: path, chain: AuditChain(vault: vault))
        try await store.migrate()
        let service = MFAService(store: store, vault: vault, clock: { Int64(Date().timeIntervalSince1970) })
        let (_, token) = try await service.createAPIKey(name: "gateway", scopes: [.verifier], actor: "t")
        let keys = APIKeyCache(lifetime: .seconds(600))
        _ = try await keys.authenticate(token, service: service)
        let answers = Answers()
        let dependencies = VerifyFastPath.Dependencies(keys: keys) { request, _, _, executor in
            let promise = executor.loop.makePromise(of: FastPathAnswer.self)
            answers.pending.withLock { $0.append((request, promise)) }
            return promise.futureResult
        }
        let channel = EmbeddedChannel()
        let reads = ReadCounter()
        let events = EventRecorder()
        let state = ConnectionState(limits: ConnectionLimits())
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(VerifyFastPath(dependencies, state: state))
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(ConnectionGuard(state))
        try channel.pipeline.syncOperations.addHandler(events)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Harness(channel: channel, answers: answers, reads: reads, events: events, token: token, keys: keys)
    }

    @Test("an ordinary verify is answered here, once its verification returns; nothing of it reaches Hummingbird")
    func answersOrdinaryVerify() async throws {
        let h = try await Self.harness()
        try h.send(h.verify("alice"))
        #expect(h.answers.users() == ["alice"])
        #expect(try h.written().isEmpty, "no answer before the verification returns")
        h.answers.answerNext()
        let out = try h.written()
        #expect(out.hasPrefix("HTTP/1.1 200 OK\r\n") && out.contains("Content-Length: 21\r\n") && out.hasSuffix(#"{"result":"rejected"}"#), "\(out)")
        #expect(try h.forwarded().isEmpty)
    }

    @Test("pipelining: a request after ours waits for our answer; a verify after Hummingbird's request goes to Hummingbird")
    func pipeliningOrder() async throws {
        let h = try await Self.harness()
        try h.send(h.verify("first") + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + h.verify("third"))
        let early = try h.forwarded()
        #expect(h.answers.users() == ["first"] && early.isEmpty, "the GET waits behind our answer")
        h.answers.answerNext()
        #expect(try h.written().hasSuffix(#"{"result":"rejected"}"#))
        // The GET went on; the verify behind it follows it to Hummingbird (we never overtake it).
        #expect(try h.forwarded() == ["HEAD /healthz", "END", "HEAD /v1/verify", #"BODY {"user":"third","code":"123456"}"#, "END"])
        #expect(h.answers.count == 0)
        try h.hummingbirdResponds()
        try h.hummingbirdResponds()
        _ = try h.written()
        // Both of Hummingbird's responses ended: the next verify is ours again.
        try h.send(h.verify("fourth"))
        #expect(h.answers.users() == ["fourth"])
    }

    @Test("what this path does not answer goes on as it arrived: another key, an unreadable body, Expect, a chunked body")
    func declines() async throws {
        let h = try await Self.harness()
        let cases = [
            h.verify("x", token: "mfa_000000000000_notacachedsecret00000000000000"),
            h.verify("x", body: #"{"user":"x","code":"123456","extra":1}"#),
            "POST /v1/verify HTTP/1.1\r\nAuthorization: Bearer \(h.token)\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
            "POST /v1/verify HTTP/1.1\r\nAuthorization: Bearer \(h.token)\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ]
        for request in cases {
            try h.send(request)
            let parts = try h.forwarded()
            #expect(parts.first == "HEAD /v1/verify" && parts.last == "END" && h.answers.count == 0, "\(request.debugDescription): \(parts)")
            try h.hummingbirdResponds()
        }
        let bodies = try h.forwarded()
        #expect(bodies.isEmpty)
    }

    @Test("a request split at every byte is still one verify, answered here")
    func splitAtEveryByte() async throws {
        let h = try await Self.harness()
        let request = Array(h.verify("split").utf8)
        for cut in 1..<request.count {
            try h.channel.writeInbound(ByteBuffer(bytes: request[..<cut]))
            try h.channel.writeInbound(ByteBuffer(bytes: request[cut...]))
            #expect(h.answers.users() == ["split"], "cut at \(cut)")
            h.answers.answerNext()
            #expect(try h.written().hasSuffix(#"{"result":"rejected"}"#), "cut at \(cut)")
        }
        #expect(try h.forwarded().isEmpty)
    }

    @Test("back-pressure: while an answer is pending, reading stops once a request's worth is held, and resumes after it")
    func backPressure() async throws {
        let h = try await Self.harness()
        try h.send(h.verify("slow"))
        let before = h.reads.reads
        h.channel.read()
        #expect(h.reads.reads == before + 1, "little held: reading goes on")
        let get = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        let count = VerifyFastPath.maxHeld / get.utf8.count + 1
        let filler = String(repeating: get, count: count)
        try h.send(filler)
        h.channel.read()
        #expect(h.reads.reads == before + 1, "a request's worth held: the read waits")
        h.answers.answerNext()
        #expect(h.reads.reads == before + 2, "the waiting read goes on after the answer")
        #expect(try h.forwarded().count == 2 * count)
    }

    @Test("a quiesce and a half-close wait for the pending answer, which is still written")
    func quiesceAndHalfClose() async throws {
        let h = try await Self.harness()
        try h.send(h.verify("closing"))
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.events.events.isEmpty, "\(h.events.events)")
        h.answers.answerNext()
        #expect(try h.written().hasSuffix(#"{"result":"rejected"}"#))
        #expect(h.events.events == ["quiesce", "inputClosed"])
        // With nothing pending they go on at once.
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(h.events.events.last == "quiesce" && h.events.events.count == 3)
    }

    @Test("an emptied key cache (serve's reload) reaches kept-alive connections: their next verify goes to Hummingbird")
    func emptiedCache() async throws {
        let h = try await Self.harness()
        try h.send(h.verify("before"))
        h.answers.answerNext()
        _ = try h.written()
        h.keys.removeAll()
        try h.send(h.verify("after"))
        let forwarded = try h.forwarded()
        #expect(h.answers.count == 0 && forwarded.first == "HEAD /v1/verify", "the connection's memo outlived the cache")
    }

    @Test("the state machine: a verify waits for its body; what arrives while it is answered waits, and so do a quiesce and a half-close")
    func machine() {
        var machine = FastPathStateMachine<Int>(maxHeld: 1_000)
        let body = #"{"user":"m","code":"123456"}"#
        var head = ByteBuffer(string: "POST /v1/verify HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        machine.receive(&head)
        let ticket: (ScannedHead) -> Int? = { $0.isVerify ? 7 : nil }
        #expect(machine.next(hummingbirdBusy: false, tunnelled: false, ticket: ticket) == nil && machine.holdsPartial)
        var rest = ByteBuffer(string: body)
        machine.receive(&rest)
        guard case .answer(let verify, 7, nil) = machine.next(hummingbirdBusy: false, tunnelled: false, ticket: ticket) else {
            Issue.record("no answer for a whole verify")
            return
        }
        #expect(verify.user == "m" && machine.answering)
        var get = ByteBuffer(string: "GET /healthz HTTP/1.1\r\n\r\n")
        machine.receive(&get)
        #expect(machine.next(hummingbirdBusy: false, tunnelled: false, ticket: ticket) == nil, "nothing goes on while answering")
        #expect(!machine.mayQuiesce() && !machine.mayCloseInput() && machine.mayRead())
        #expect(machine.settle() == .init(), "nothing is released while answering")
        machine.answered()
        guard case .forward(let bytes) = machine.next(hummingbirdBusy: false, tunnelled: false, ticket: ticket) else {
            Issue.record("the GET was not passed on after the answer")
            return
        }
        #expect(String(buffer: bytes) == "GET /healthz HTTP/1.1\r\n\r\n")
        #expect(machine.settle() == .init(quiesce: true, inputClosed: true, read: false))
        // A verify while a request is at Hummingbird is Hummingbird's.
        var second = ByteBuffer(string: "POST /v1/verify HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        machine.receive(&second)
        guard case .forward = machine.next(hummingbirdBusy: true, tunnelled: false, ticket: ticket) else {
            Issue.record("a verify overtook a request at Hummingbird")
            return
        }
    }
}
