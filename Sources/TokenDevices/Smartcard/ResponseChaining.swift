/// Collecting a response that the card sends in pieces (`61xx`: "xx more bytes available").
public enum ResponseChaining {
    /// ISO 7816-4 GET RESPONSE: how plain cards hand out the rest.
    public static let getResponse: UInt8 = 0xC0

    /// Sends `command` and, while the card answers `61xx`, asks for the rest with `remainingINS`
    /// (`C0` GET RESPONSE for ISO cards, `A5` SEND REMAINING for the YKOATH applet). GET RESPONSE
    /// carries Le = xx (00 = 256); SEND REMAINING carries none. At most `maximumChunks` rounds.
    public static func transmit(
        _ command: CommandAPDU, over transport: any APDUTransport, remainingINS: UInt8 = getResponse, maximumChunks: Int = 256
    ) throws -> ResponseAPDU {
        var response = try transport.transmit(command)
        var data = response.data
        var chunks = 0
        while response.status.isMoreData {
            chunks += 1
            guard chunks <= maximumChunks else {
                throw SmartcardError(.chainingOverflow, "the card kept announcing more data (61xx) after \(data.count) bytes")
            }
            let le: Int? = remainingINS == getResponse ? (response.status.sw2 == 0 ? 256 : Int(response.status.sw2)) : nil
            response = try transport.transmit(CommandAPDU(cla: command.cla & 0x03, ins: remainingINS, le: le))
            data += response.data
        }
        return ResponseAPDU(data: data, status: response.status)
    }
}
