import TokenDevices
import Foundation
import OTP

/// The card side of the YKOATH applet: a virtual YubiKey OATH application that answers raw APDUs.
///
/// Behaviour follows what ykman 4.0.9 sends and expects (see the YKOATH protocol description):
/// SELECT (`A4 04`), CALCULATE ALL (`A4 00`), PUT, DELETE, RENAME, LIST, CALCULATE, SET CODE, VALIDATE,
/// RESET and SEND REMAINING (`A5`, answering 61xx chains of 255 data bytes). Any byte string gets an
/// answer of at least two bytes (except in ``HostileBehaviour/shortResponse`` mode, on purpose); nothing
/// traps.
///
/// Persistent data (``YKOATHCardState``) survives ``powerCycle()``; the session (selection,
/// authentication, the last SELECT challenge, a pending response chain) does not. Every change of the
/// persistent data is reported to `onStateChange` before the command's answer is returned, so a caller
/// that saves there loses nothing when the process is killed.
///
/// All methods lock one internal lock, so the applet can be shared between threads (the vpcd connection
/// runs on its own thread while the owner reads ``state``). `onStateChange` runs under that lock and must
/// not call back into the applet.
public final class YKOATHApplet: @unchecked Sendable {
    /// What CALCULATE does for a credential that requires touch.
    public enum TouchPolicy: String, Sendable, Hashable, CaseIterable {
        /// Behave as if the user touched the key at once: compute the code.
        case approve
        /// Behave as if nobody touched the key: answer 6982, as a YubiKey does when its touch times out.
        case timeout
    }

    public struct Options: Sendable, Hashable {
        public var touchPolicy: TouchPolicy
        /// Misbehave on purpose, to test a host's error handling; nil for a well-behaved card.
        public var hostile: HostileBehaviour?
        /// PUT of a new credential beyond this many answers 6A84 (no space).
        public var credentialLimit: Int
        /// Report this version in SELECT instead of the state's (3 bytes).
        public var versionOverride: [UInt8]?

        public init(
            touchPolicy: TouchPolicy = .approve, hostile: HostileBehaviour? = nil, credentialLimit: Int = 32,
            versionOverride: [UInt8]? = nil
        ) {
            precondition(versionOverride == nil || versionOverride?.count == 3, "a YKOATH version has 3 bytes")
            self.touchPolicy = touchPolicy
            self.hostile = hostile
            self.credentialLimit = max(0, credentialLimit)
            self.versionOverride = versionOverride
        }
    }

    /// The session: everything a power cycle forgets.
    struct Session {
        var selected = false
        var authenticated = false
        /// The challenge of the last SELECT (only while a password is set).
        var challenge: [UInt8]? = nil
        /// Response data not yet sent (61xx chaining).
        var pending: [UInt8] = []
        /// ``HostileBehaviour/endlessChaining``: SEND REMAINING keeps answering 61FF.
        var endlessChain = false
        /// ``HostileBehaviour/oddStatus``: which odd status word comes next.
        var oddStatusIndex = 0
    }

    /// A command's answer before chaining and hostile rewriting.
    struct Reply {
        var data: [UInt8]
        var status: StatusWord

        init(_ data: [UInt8] = [], _ status: StatusWord = .success) {
            self.data = data
            self.status = status
        }

        init(_ status: StatusWord) { self.init([], status) }
    }

    /// Data bytes per response; the rest waits for SEND REMAINING (a YubiKey's figure).
    static let chunkSize = 255

    public let options: Options
    private let lock = NSLock()
    private let onStateChange: (@Sendable (YKOATHCardState) -> Void)?
    var cardState: YKOATHCardState
    var session = Session()

    /// - Parameters:
    ///   - state: the persistent data to start from (a fresh empty card by default).
    ///   - onStateChange: called with the new state after every change of the persistent data
    ///     (PUT, DELETE, RENAME, RESET, SET CODE, and every HOTP CALCULATE, which advances a counter).
    public init(
        state: YKOATHCardState = YKOATHCardState(), options: Options = Options(),
        onStateChange: (@Sendable (YKOATHCardState) -> Void)? = nil
    ) {
        self.cardState = state
        self.options = options
        self.onStateChange = onStateChange
    }

    /// A copy of the persistent data.
    public var state: YKOATHCardState {
        lock.lock()
        defer { lock.unlock() }
        return cardState
    }

    /// Power off/on or reset of the card: forgets the session, keeps the persistent data.
    public func powerCycle() {
        lock.lock()
        defer { lock.unlock() }
        session = Session()
    }

    /// Processes one command APDU and returns the full response APDU (data followed by SW1 SW2).
    public func process(_ apdu: [UInt8]) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        guard let command = try? CommandAPDU(parsing: apdu) else {
            session.pending = []
            session.endlessChain = false
            return StatusWord.wrongLength.bytes
        }
        if command.ins == OATHProtocol.Instruction.select && command.p1 == 0x04 {
            return select(command)
        }
        guard session.selected else { return StatusWord.insNotSupported.bytes }
        if command.ins == OATHProtocol.Instruction.sendRemaining {
            return sendRemaining(command)
        }
        session.pending = []
        session.endlessChain = false
        guard command.cla == 0x00 else { return StatusWord.claNotSupported.bytes }
        return finish(dispatch(command), for: command)
    }

    // MARK: Dispatch

    private func dispatch(_ command: CommandAPDU) -> Reply {
        typealias INS = OATHProtocol.Instruction
        let p1p2 = UInt16(command.p1) << 8 | UInt16(command.p2)
        let handler: (CommandAPDU) -> Reply
        let parametersValid: Bool
        let protected: Bool
        switch command.ins {
        case INS.put: (handler, parametersValid, protected) = (put, p1p2 == 0, true)
        case INS.delete: (handler, parametersValid, protected) = (delete, p1p2 == 0, true)
        case INS.rename: (handler, parametersValid, protected) = (rename, p1p2 == 0, true)
        case INS.list: (handler, parametersValid, protected) = (list, p1p2 == 0, true)
        case INS.setCode: (handler, parametersValid, protected) = (setCode, p1p2 == 0, true)
        case INS.calculate: (handler, parametersValid, protected) = (calculate, command.p1 == 0 && command.p2 <= 1, true)
        case INS.calculateAll: (handler, parametersValid, protected) = (calculateAll, command.p1 == 0 && command.p2 <= 1, true)
        case INS.validate: (handler, parametersValid, protected) = (validate, p1p2 == 0, false)
        case INS.reset: (handler, parametersValid, protected) = (reset, p1p2 == 0xDEAD, false)
        default: return Reply(.insNotSupported)
        }
        guard parametersValid else { return Reply(.wrongP1P2) }
        if protected && isLocked { return Reply(.securityNotSatisfied) }
        return handler(command)
    }

    /// A password is set and this session has not validated.
    var isLocked: Bool { cardState.passwordKey != nil && !session.authenticated }

    /// Reports the persistent data to the owner.
    func persist() { onStateChange?(cardState) }

    // MARK: Response chaining

    /// Splits long data into a 61xx chain (SW2 = bytes left, at most FF).
    func chained(_ reply: Reply) -> [UInt8] {
        guard reply.data.count > Self.chunkSize else {
            session.pending = []
            return reply.data + reply.status.bytes
        }
        session.pending = Array(reply.data[Self.chunkSize...])
        return Array(reply.data[..<Self.chunkSize]) + moreData(session.pending.count)
    }

    private func sendRemaining(_ command: CommandAPDU) -> [UInt8] {
        guard command.cla == 0x00, command.p1 == 0, command.p2 == 0 else {
            session.pending = []
            session.endlessChain = false
            return StatusWord.wrongP1P2.bytes
        }
        if session.endlessChain {
            return LibCrypto.randomBytes(16) + [0x61, 0xFF]
        }
        guard !session.pending.isEmpty else {
            return finish(Reply(.conditionsNotSatisfied), for: command)
        }
        let part = Array(session.pending.prefix(Self.chunkSize))
        session.pending.removeFirst(part.count)
        return part + (session.pending.isEmpty ? StatusWord.success.bytes : moreData(session.pending.count))
    }

    private func moreData(_ remaining: Int) -> [UInt8] { [0x61, UInt8(min(remaining, 0xFF))] }
}

extension StatusWord {
    var bytes: [UInt8] { [sw1, sw2] }
}
