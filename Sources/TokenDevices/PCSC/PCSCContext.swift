import CPCSCLite
#if canImport(Glibc)
import Glibc
#endif

/// The state of a reader and its card, from `SCardGetStatusChange`.
public struct ReaderStatus: Sendable, Hashable {
    public let name: String
    public let cardPresent: Bool
    /// The card's answer to reset (empty without a card).
    public let atr: [UInt8]
    public let exclusive: Bool
    public let inUse: Bool
    public let mute: Bool
    /// The raw event state (kept to wait for the next change).
    public let eventState: UInt
}

/// Smart card sharing mode.
public enum ShareMode: Sendable {
    case shared, exclusive, direct

    var raw: DWORD {
        switch self {
        case .shared: DWORD(SCARD_SHARE_SHARED)
        case .exclusive: DWORD(SCARD_SHARE_EXCLUSIVE)
        case .direct: DWORD(SCARD_SHARE_DIRECT)
        }
    }
}

/// Transmission protocols.
public struct CardProtocols: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let t0 = CardProtocols(rawValue: UInt(SCARD_PROTOCOL_T0))
    public static let t1 = CardProtocols(rawValue: UInt(SCARD_PROTOCOL_T1))
    public static let any: CardProtocols = [.t0, .t1]
}

/// What happens to the card when a connection or transaction ends.
public enum CardDisposition: Sendable {
    case leave, reset, unpower, eject

    var raw: DWORD {
        switch self {
        case .leave: DWORD(SCARD_LEAVE_CARD)
        case .reset: DWORD(SCARD_RESET_CARD)
        case .unpower: DWORD(SCARD_UNPOWER_CARD)
        case .eject: DWORD(SCARD_EJECT_CARD)
        }
    }
}

/// A PC/SC context, confined to its ``PCSCClient``'s thread (it is only handed out inside `perform`).
public struct PCSCContext {
    let handle: SCARDCONTEXT

    init(handle: SCARDCONTEXT) { self.handle = handle }

    /// Every pcsc-lite call's result goes through here, so every error path is typed the same way.
    static func check(_ result: LONG, _ operation: @autoclosure () -> String) throws(PCSCError) {
        guard result != SCARD_S_SUCCESS else { return }
        throw PCSCError(rawValue: Int64(result), operation: operation())
    }

    /// Names of the connected readers (empty when there are none).
    public func readers() throws(PCSCError) -> [String] {
        var length: DWORD = 0
        var result = SCardListReaders(handle, nil, nil, &length)
        if result == SCARD_E_NO_READERS_AVAILABLE { return [] }
        try Self.check(result, "list readers")
        var buffer = [CChar](repeating: 0, count: Int(length))
        result = SCardListReaders(handle, nil, &buffer, &length)
        if result == SCARD_E_NO_READERS_AVAILABLE { return [] }
        try Self.check(result, "list readers")
        // A multi-string: names separated by NUL, ended by an empty name.
        var names: [String] = []
        var start = 0
        for i in 0..<Int(length) where buffer[i] == 0 {
            if i > start {
                names.append(String(decoding: buffer[start..<i].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            start = i + 1
        }
        return names
    }

    /// The current state of `readers` (immediately).
    public func status(of readers: [String]) throws(PCSCError) -> [ReaderStatus] {
        try statusChange(readers, known: readers.map { _ in UInt(SCARD_STATE_UNAWARE) }, timeoutMilliseconds: 0)
    }

    /// Blocks until a reader's state differs from `known` (cards inserted or removed), the timeout
    /// passes (``PCSCError/timeout``), or ``PCSCClient/cancel()`` is called (``PCSCError/cancelled``).
    /// `nil` waits forever.
    public func waitForChange(_ known: [ReaderStatus], timeoutMilliseconds: UInt32?) throws(PCSCError) -> [ReaderStatus] {
        try statusChange(known.map(\.name), known: known.map(\.eventState), timeoutMilliseconds: timeoutMilliseconds ?? UInt32.max)
    }

    private func statusChange(_ names: [String], known: [UInt], timeoutMilliseconds: UInt32) throws(PCSCError) -> [ReaderStatus] {
        guard !names.isEmpty else { return [] }
        let cNames = names.map { strdup($0)! }
        defer { cNames.forEach { free($0) } }
        var states = (0..<names.count).map { i -> SCARD_READERSTATE in
            var state = SCARD_READERSTATE()
            state.szReader = UnsafePointer(cNames[i])
            state.dwCurrentState = DWORD(known[i] & ~UInt(SCARD_STATE_CHANGED))
            return state
        }
        let result = SCardGetStatusChange(handle, DWORD(timeoutMilliseconds), &states, DWORD(states.count))
        try Self.check(result, "read the state of the readers")
        return zip(names, states).map { name, state in
            let event = UInt(state.dwEventState)
            let atr = withUnsafeBytes(of: state.rgbAtr) { Array($0.prefix(Int(state.cbAtr))) }
            let present = event & UInt(SCARD_STATE_PRESENT) != 0
            return ReaderStatus(
                name: name, cardPresent: present, atr: present ? atr : [],
                exclusive: event & UInt(SCARD_STATE_EXCLUSIVE) != 0, inUse: event & UInt(SCARD_STATE_INUSE) != 0,
                mute: event & UInt(SCARD_STATE_MUTE) != 0, eventState: event)
        }
    }

    /// Connects to the card in `reader`.
    public func connect(reader: String, share: ShareMode = .shared, protocols: CardProtocols = .any) throws(PCSCError) -> PCSCCard {
        var card: SCARDHANDLE = 0
        var active: DWORD = 0
        try Self.check(
            SCardConnect(handle, reader, share.raw, DWORD(protocols.rawValue), &card, &active),
            "connect to the card in '\(reader)'")
        return PCSCCard(handle: card, reader: reader, activeProtocol: CardProtocols(rawValue: UInt(active)))
    }
}
