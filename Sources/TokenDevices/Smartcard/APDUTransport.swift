/// Anything that carries APDUs to a card: a PC/SC card connection, or an in-memory applet in tests.
public protocol APDUTransport {
    /// Sends one command APDU and returns the card's response (no chaining handled here).
    func transmit(_ command: CommandAPDU) throws -> ResponseAPDU
}
