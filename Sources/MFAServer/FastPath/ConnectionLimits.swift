import NIOCore

/// How long a connection may hold the server's resources without doing anything, and how many
/// connections it holds at most (`mfactl serve --idle-timeout --request-timeout --max-connections`).
public struct ConnectionLimits: Sendable, Hashable {
    /// A connection with no request in progress and none arriving is closed after this long.
    public var idleTimeout: Duration
    /// A request's head must arrive whole within this long of its first byte, and its body must not
    /// pause for longer.
    public var requestTimeout: Duration
    /// Connections open at once; further clients wait in the listen backlog until one closes.
    public var maxConnections: Int

    public init(idleTimeout: Duration = .seconds(60), requestTimeout: Duration = .seconds(30), maxConnections: Int = 4_096) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }
}

/// What one connection is doing, as its two handlers see it: ``VerifyFastPath`` before NIO's decoder
/// (every byte, its own answers) and ``ConnectionGuard`` after it (requests as NIO read them, and
/// Hummingbird's responses). It decides when the connection has stalled and closes it.
///
/// A connection is *busy* while a request is being answered (by either path), *receiving* while a
/// request has begun to arrive and is not complete, *idle* otherwise. Busy has no deadline (a seed
/// import may take a while); receiving ends after ``ConnectionLimits/requestTimeout`` (a slow-loris
/// client trickling a head or body), idle after ``ConnectionLimits/idleTimeout``. The clock of a phase
/// starts when the phase does: bytes that do not complete a request do not extend it. Used on the
/// channel's event loop only.
final class ConnectionState {
    enum Phase { case idle, receiving, busy }

    let limits: ConnectionLimits
    /// The fast path is answering a verify of its own.
    var fastPathAnswering = false
    /// The fast path holds part of a request (a head, or a body it passes on as it arrives).
    var fastPathPartial = false
    /// NIO read a request's head and not yet its end.
    var hummingbirdReading = false
    /// Bytes went on to NIO's decoder and it has not read a head from them yet.
    var inputPending = false
    /// Requests NIO read whose response has not ended.
    var hummingbirdPending = 0
    /// NIO's decoder stopped parsing (an upgrade or `CONNECT` request ended): nothing after it is read.
    var tunnelled = false

    private(set) var phase = Phase.idle
    private var phaseStart = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(limits: ConnectionLimits) { self.limits = limits }

    /// Recomputes the phase after any of the fields above changed.
    func update() {
        let now: Phase = fastPathAnswering || (hummingbirdPending > 0 && !hummingbirdReading) ? .busy
            : (fastPathPartial || hummingbirdReading || inputPending) ? .receiving : .idle
        if now != phase {
            phase = now
            phaseStart = .now()
        }
    }

    /// Body bytes arrived: a body's deadline is for pauses, not for the whole upload.
    func progress() {
        if phase == .receiving && hummingbirdReading { phaseStart = .now() }
    }

    /// Starts checking the deadlines of `context`'s channel.
    func start(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        phaseStart = .now()
        schedule(context)
    }

    func stop() {
        check?.cancel()
        check = nil
    }

    /// One check per quarter of the shorter limit (at most every 5 s): a stalled connection is closed
    /// at most a quarter late.
    private func schedule(_ context: ChannelHandlerContext) {
        let shorter = min(limits.idleTimeout, limits.requestTimeout)
        let tick = TimeAmount(min(shorter / 4, .seconds(5)))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(in: tick) {
            let (state, context) = bound.value
            state.check = nil
            guard context.channel.isActive else { return }
            let limit: Duration? = switch state.phase {
            case .busy: nil
            case .receiving: state.limits.requestTimeout
            case .idle: state.limits.idleTimeout
            }
            if let limit, NIODeadline.now() - state.phaseStart >= TimeAmount(limit) {
                context.close(promise: nil)
            } else {
                state.schedule(context)
            }
        }
    }
}
