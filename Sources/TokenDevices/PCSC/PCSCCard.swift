import CPCSCLite
#if canImport(Glibc)
import Glibc
#endif

/// A connection to a card, confined to its ``PCSCClient``'s thread.
public final class PCSCCard: APDUTransport {
    private var handle: SCARDHANDLE
    public let reader: String
    /// T=0 or T=1, as negotiated.
    public private(set) var activeProtocol: CardProtocols
    private var connected = true

    init(handle: SCARDHANDLE, reader: String, activeProtocol: CardProtocols) {
        self.handle = handle
        self.reader = reader
        self.activeProtocol = activeProtocol
    }

    deinit {
        if connected { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) }
    }

    /// Sends raw APDU bytes and returns the raw response (data + SW1 SW2).
    public func transmit(bytes: [UInt8]) throws(PCSCError) -> [UInt8] {
        var response = [UInt8](repeating: 0, count: 65_538)
        var length = DWORD(response.count)
        let pci = activeProtocol.contains(.t1) ? mfa_pcsc_pci_t1() : mfa_pcsc_pci_t0()
        let result = SCardTransmit(handle, pci, bytes, DWORD(bytes.count), nil, &response, &length)
        if result != SCARD_S_SUCCESS, cardWasRemoved(after: result) {
            throw PCSCError(rawValue: Int64(SCARD_W_REMOVED_CARD), operation: "send a command to '\(reader)'")
        }
        try PCSCContext.check(result, "send a command to '\(reader)'")
        // A reader that answers with no bytes at all (vpcd does when its card goes away mid-command)
        // has no status word to parse: the card was removed, or it does not respond.
        if length == 0 {
            let code = cardIsGone() ? SCARD_W_REMOVED_CARD : SCARD_W_UNRESPONSIVE_CARD
            throw PCSCError(rawValue: Int64(code), operation: "send a command to '\(reader)'")
        }
        return Array(response.prefix(Int(length)))
    }

    /// A failed transmit often only says "not transacted" when the card was pulled: pcscd notices the
    /// removal on its next poll. Ask the reader for up to a second before reporting the vaguer error.
    private func cardWasRemoved(after result: LONG) -> Bool {
        let suspicious: [LONG] = [SCARD_E_NOT_TRANSACTED, SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, SCARD_W_UNRESPONSIVE_CARD, SCARD_F_COMM_ERROR]
        guard suspicious.contains(result) else { return false }
        if result == SCARD_W_REMOVED_CARD || result == SCARD_E_NO_SMARTCARD { return true }
        return cardIsGone()
    }

    /// Asks the reader, for up to a second, whether the card has left it.
    private func cardIsGone() -> Bool {
        for _ in 0..<20 {
            var nameLength: DWORD = 0
            var state: DWORD = 0
            var proto: DWORD = 0
            var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
            var atrLength = DWORD(atr.count)
            let status = SCardStatus(handle, nil, &nameLength, &state, &proto, &atr, &atrLength)
            if status == SCARD_W_REMOVED_CARD || status == SCARD_E_NO_SMARTCARD || (status == SCARD_S_SUCCESS && state & DWORD(SCARD_ABSENT) != 0) {
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// Sends one command APDU.
    public func transmit(_ command: CommandAPDU) throws -> ResponseAPDU {
        try ResponseAPDU(parsing: try transmit(bytes: try command.encoded()))
    }

    /// Starts an exclusive transaction (other programs wait until ``endTransaction(_:)``).
    public func beginTransaction() throws(PCSCError) {
        try PCSCContext.check(SCardBeginTransaction(handle), "begin a transaction on '\(reader)'")
    }

    /// Ends the transaction.
    public func endTransaction(_ disposition: CardDisposition = .leave) throws(PCSCError) {
        try PCSCContext.check(SCardEndTransaction(handle, disposition.raw), "end the transaction on '\(reader)'")
    }

    /// Runs `body` inside a transaction.
    public func withTransaction<T>(_ body: () throws -> T) throws -> T {
        try beginTransaction()
        defer { try? endTransaction() }
        return try body()
    }

    /// Re-establishes the connection, e.g. after ``PCSCError/resetCard`` (another program reset it).
    public func reconnect(share: ShareMode = .shared, protocols: CardProtocols = .any, initialization: CardDisposition = .leave)
        throws(PCSCError)
    {
        var active: DWORD = 0
        try PCSCContext.check(
            SCardReconnect(handle, share.raw, DWORD(protocols.rawValue), initialization.raw, &active), "reconnect to '\(reader)'")
        activeProtocol = CardProtocols(rawValue: UInt(active))
    }

    /// The card's current ATR.
    public func atr() throws(PCSCError) -> [UInt8] {
        var nameLength: DWORD = 0
        var state: DWORD = 0
        var proto: DWORD = 0
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        try PCSCContext.check(SCardStatus(handle, nil, &nameLength, &state, &proto, &atr, &atrLength), "read the status of '\(reader)'")
        return Array(atr.prefix(Int(atrLength)))
    }

    /// Ends the connection.
    public func disconnect(_ disposition: CardDisposition = .leave) throws(PCSCError) {
        guard connected else { return }
        connected = false
        try PCSCContext.check(SCardDisconnect(handle, disposition.raw), "disconnect from '\(reader)'")
    }
}
