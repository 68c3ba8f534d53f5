import NIOCore

/// The decisions of ``VerifyFastPath`` for one connection, as a value with no channel in it, so each
/// rule is tested on its own: what the connection's bytes are (a verify answered here, a request for
/// NIO's decoder and Hummingbird, the rest of a body), in which order, what waits, and when reading, a
/// quiesce and a half-close go on.
///
/// Bytes arrive in ``unread``. Each ``next(hummingbirdBusy:tunnelled:ticket:)`` takes one step: a
/// head the ``RequestHeadScanner`` reads and the handler calls ordinary (it gives a `Ticket`, what it
/// needs to answer) waits for its body and becomes an answer, unless its body is not one
/// ``VerifyRequest/init(simpleJSON:)`` reads; any other head goes on to the decoder, its body after it
/// as it arrives; bytes the scanner calls unusual, or anything after `Connection: close`, send the
/// connection to the decoder for good. A verify is answered here only while no request is still at
/// Hummingbird (responses stay in request order). While an answer is pending, later bytes wait in
/// ``unread``; reading stops once it holds a request's worth, and a quiesce or the input's half-close
/// waits for the answer (both would otherwise lose it). A quiesce also waits while part of a request
/// is held here, which Hummingbird's connection state handler cannot see.
struct FastPathStateMachine<Ticket> {
    enum Action {
        /// Bytes for NIO's decoder.
        case forward(ByteBuffer)
        /// Answer this verify (then call ``answered()``).
        case answer(VerifyRequest, ticket: Ticket, idempotencyKey: String?)
    }

    /// What waited, and may go on now (``settle()``).
    struct Settled: Equatable {
        var quiesce = false
        var inputClosed = false
        var read = false
    }

    /// Bytes received and not yet answered or passed on.
    private(set) var unread = ByteBuffer()
    /// Body bytes of a request passed on to the decoder that have yet to arrive and follow it.
    private(set) var bodyToPassOn = 0
    /// The decoder has the connection for good: every byte goes straight on.
    private(set) var passingThrough: Bool
    /// A verify of ours is running.
    private(set) var answering = false
    private var pending = Settled()
    /// Bytes ``unread`` may hold while an answer is pending before reading pauses.
    let maxHeld: Int

    init(maxHeld: Int, passingThrough: Bool = false) {
        self.maxHeld = maxHeld
        self.passingThrough = passingThrough
    }

    /// Part of a request is held here (a head not yet whole, a verify's body on its way, the rest of
    /// a body still to pass on): the request deadline applies.
    var holdsPartial: Bool { !passingThrough && !answering && (unread.readableBytes > 0 || bodyToPassOn > 0) }

    /// Bytes from the client, kept in order (passing through, the handler fires them on itself).
    mutating func receive(_ bytes: inout ByteBuffer) {
        unread.writeBuffer(&bytes)
    }

    /// One step over ``unread``; nil when nothing can be done now (bytes incomplete, an answer pending).
    /// `hummingbirdBusy`: a request of the connection is still at Hummingbird. `tunnelled`: NIO's
    /// decoder stopped parsing (what follows is dropped). `ticket` is asked about ordinary verifies only.
    mutating func next(hummingbirdBusy: Bool, tunnelled: Bool, ticket: (ScannedHead) -> Ticket?) -> Action? {
        if tunnelled {
            unread = ByteBuffer()
            return nil
        }
        guard !answering, unread.readableBytes > 0 else {
            if unread.readableBytes == 0 { unread.clear() }
            return nil
        }
        if passingThrough { return .forward(takeAll()) }
        if bodyToPassOn > 0 {
            let count = min(bodyToPassOn, unread.readableBytes)
            bodyToPassOn -= count
            return .forward(unread.readSlice(length: count)!)
        }
        switch unread.withUnsafeReadableBytes({ RequestHeadScanner.scan($0) }) {
        case .incomplete:
            unread.discardReadBytes()
            return nil
        case .unusual:
            passingThrough = true
            return .forward(takeAll())
        case .head(let head):
            if !hummingbirdBusy, let ticket = ticket(head) {
                guard unread.readableBytes >= head.length + head.contentLength else {
                    unread.discardReadBytes()
                    return nil  // the body is still on its way
                }
                let body = unread.getSlice(at: unread.readerIndex + head.length, length: head.contentLength)!
                if let verify = body.withUnsafeReadableBytes({ VerifyRequest(simpleJSON: $0) }) {
                    unread.moveReaderIndex(forwardBy: head.length + head.contentLength)
                    answering = true
                    return .answer(verify, ticket: ticket, idempotencyKey: head.idempotencyKey)
                }
            }
            // Hummingbird's: the head now, the body as it arrives.
            bodyToPassOn = head.contentLength
            // After `Connection: close` nothing more is served on the connection, by either path.
            if head.closes { passingThrough = true }
            return .forward(unread.readSlice(length: head.length)!)
        }
    }

    private mutating func takeAll() -> ByteBuffer {
        defer { unread = ByteBuffer() }
        return unread
    }

    /// The answer is written; ``next(hummingbirdBusy:tunnelled:ticket:)`` goes on with what waited.
    mutating func answered() {
        answering = false
    }

    /// What waited and may go on now: nothing while an answer is pending; a quiesce not while part
    /// of a request is held here either.
    mutating func settle() -> Settled {
        guard !answering else { return Settled() }
        let quiesce = pending.quiesce && !holdsPartial
        defer { pending = Settled(quiesce: pending.quiesce && !quiesce) }
        return Settled(quiesce: quiesce, inputClosed: pending.inputClosed, read: pending.read)
    }

    /// Whether a read should go on now; false holds it until ``settle()``.
    mutating func mayRead() -> Bool {
        guard answering, unread.readableBytes >= maxHeld else { return true }
        pending.read = true
        return false
    }

    /// Whether a quiesce (graceful shutdown) should go on now.
    mutating func mayQuiesce() -> Bool {
        guard answering || holdsPartial else { return true }
        pending.quiesce = true
        return false
    }

    /// Whether the input's half-close should go on now: not before a pending answer is written.
    mutating func mayCloseInput() -> Bool {
        guard answering else { return true }
        pending.inputClosed = true
        return false
    }
}
