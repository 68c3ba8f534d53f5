import NIOCore
import NIOHTTP1

/// The decisions of ``DecodedVerifyFastPath`` for one connection, as a value with no channel in it, so
/// each rule is tested on its own: who answers each request, in which order, what waits, and when
/// reading, a quiesce and a half-close go on.
///
/// Requests arrive as NIO's decoder parts. A head the handler calls ordinary (with a `Ticket`, what it
/// needs to answer) is *collected* with its body; at its end the handler answers it, unless the body
/// is not one it reads (then head, body and end go on, as they arrived). Every other request goes
/// *forwarded*, part by part, to Hummingbird. Only with no forwarded request still unanswered does a
/// verify become the handler's: Hummingbird writes its responses in request order, and so do we. While
/// an answer is pending, later parts are *held* and replayed in order once it is written; reading stops
/// once a request's worth is held (a client cannot pipeline the server out of memory), and a quiesce
/// or a half-close of the input waits for the answer (both would otherwise lose it).
struct FastPathStateMachine<Ticket> {
    enum Phase {
        case idle
        case forwarding
        case collecting(head: HTTPRequestHead, body: ByteBuffer, ticket: Ticket)
        case answering
    }

    enum Action {
        /// Fire these parts on, in order.
        case forward([HTTPServerRequestPart])
        /// Answer this request (then call ``answered()``).
        case answer(head: HTTPRequestHead, body: ByteBuffer, ticket: Ticket)
        /// Nothing now (a part collected or held).
        case wait
    }

    /// What to do once an answer has been written: replay `held` (through ``received(_:ticket:)``),
    /// then ask ``settle()``.
    struct Settled {
        var quiesce = false
        var inputClosed = false
        var read = false
    }

    private(set) var phase = Phase.idle
    /// Requests forwarded whose response has not ended.
    private(set) var forwarded = 0
    private var held: [HTTPServerRequestPart] = []
    private var heldBytes = 0
    private var pending = Settled()

    let maxBody: Int
    let maxHeld: Int

    init(maxBody: Int, maxHeld: Int) {
        self.maxBody = maxBody
        self.maxHeld = maxHeld
    }

    /// A part from the decoder. `ticket` is asked about a head only when the handler may answer it.
    mutating func received(_ part: HTTPServerRequestPart, ticket: (HTTPRequestHead) -> Ticket?) -> Action {
        switch (phase, part) {
        case (.answering, _):
            held.append(part)
            // A head or an end counts as a line's worth, so many small requests also stop reading.
            if case .body(let buffer) = part { heldBytes += buffer.readableBytes } else { heldBytes += 256 }
            return .wait
        case (.idle, .head(let head)):
            if forwarded == 0, let ticket = ticket(head) {
                phase = .collecting(head: head, body: ByteBuffer(), ticket: ticket)
                return .wait
            }
            phase = .forwarding
            forwarded += 1
            return .forward([part])
        case (.collecting(let head, var body, let ticket), .body(var more)):
            guard body.readableBytes + more.readableBytes <= maxBody else {
                // Larger than any verify: Hummingbird's, with what came so far.
                phase = .forwarding
                forwarded += 1
                return .forward([.head(head), .body(body), part])
            }
            body.writeBuffer(&more)
            phase = .collecting(head: head, body: body, ticket: ticket)
            return .wait
        case (.collecting(let head, let body, let ticket), .end):
            phase = .answering
            return .answer(head: head, body: body, ticket: ticket)
        case (.forwarding, .end):
            phase = .idle
            return .forward([part])
        case (.forwarding, _), (.idle, _), (.collecting, .head):
            // The decoder's order is head, body, end; anything else goes on for Hummingbird to refuse.
            return .forward([part])
        }
    }

    /// The handler will not answer the request it collected after all (its body is not one it reads):
    /// the parts to fire on, as they arrived.
    mutating func declined(head: HTTPRequestHead, body: ByteBuffer) -> [HTTPServerRequestPart] {
        phase = .idle
        forwarded += 1
        return [.head(head), .body(body), .end(nil)]
    }

    /// Hummingbird wrote the end of a response.
    mutating func responseEnded() {
        if forwarded > 0 { forwarded -= 1 }
    }

    /// The answer is written: the parts held meanwhile, to replay in order.
    mutating func answered() -> [HTTPServerRequestPart] {
        phase = .idle
        defer { (held, heldBytes) = ([], 0) }
        return held
    }

    /// After a replay: what waited for the answer, unless another answer is pending now.
    mutating func settle() -> Settled {
        if case .answering = phase { return Settled() }
        defer { pending = Settled() }
        return pending
    }

    /// Whether a read should go on now; false holds it until ``settle()``.
    mutating func mayRead() -> Bool {
        guard case .answering = phase, heldBytes >= maxHeld else { return true }
        pending.read = true
        return false
    }

    /// Whether a quiesce (graceful shutdown) should go on now: not while a verify is collected or
    /// answered, which the connection state handler after us cannot see.
    mutating func mayQuiesce() -> Bool {
        switch phase {
        case .collecting, .answering:
            pending.quiesce = true
            return false
        case .idle, .forwarding:
            return true
        }
    }

    /// Whether the input's half-close should go on now: not before a pending answer is written.
    mutating func mayCloseInput() -> Bool {
        guard case .answering = phase else { return true }
        pending.inputClosed = true
        return false
    }
}
