/// An ISO 7816-4 command APDU (short form; cases 1–4).
public struct CommandAPDU: Sendable, Hashable, CustomStringConvertible {
    public var cla: UInt8
    public var ins: UInt8
    public var p1: UInt8
    public var p2: UInt8
    /// Command data (Lc bytes), at most 255 bytes in short form.
    public var data: [UInt8]
    /// Expected response length (Le); nil for none. 256 is encoded as 00.
    public var le: Int?

    public init(cla: UInt8 = 0x00, ins: UInt8, p1: UInt8 = 0, p2: UInt8 = 0, data: [UInt8] = [], le: Int? = nil) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.le = le
    }

    /// The encoded APDU. Throws when data exceeds 255 bytes or Le is outside 1...256.
    public func encoded() throws(SmartcardError) -> [UInt8] {
        guard data.count <= 255 else {
            throw SmartcardError(.malformedCommand, "command data of \(data.count) bytes exceeds a short APDU (255)")
        }
        var out: [UInt8] = [cla, ins, p1, p2]
        if !data.isEmpty {
            out.append(UInt8(data.count))
            out += data
        }
        if let le {
            guard (1...256).contains(le) else { throw SmartcardError(.malformedCommand, "Le \(le) is outside 1...256") }
            out.append(UInt8(truncatingIfNeeded: le))
        }
        return out
    }

    /// Parses a short command APDU as a card receives it. A 5-byte APDU whose P3 is 0 is read as
    /// "no data" (the form ykman sends: `00 A1 00 00 00`), other 5-byte APDUs as case 2 (Le only).
    public init(parsing bytes: [UInt8]) throws(SmartcardError) {
        guard bytes.count >= 4 else {
            throw SmartcardError(.malformedCommand, "a command APDU needs at least 4 bytes, got \(bytes.count)")
        }
        cla = bytes[0]
        ins = bytes[1]
        p1 = bytes[2]
        p2 = bytes[3]
        data = []
        le = nil
        if bytes.count == 4 { return }
        let p3 = Int(bytes[4])
        if bytes.count == 5 {
            le = p3 == 0 ? nil : p3
            return
        }
        guard p3 > 0, bytes.count == 5 + p3 || bytes.count == 6 + p3 else {
            throw SmartcardError(.malformedCommand, "Lc \(p3) does not match an APDU of \(bytes.count) bytes")
        }
        data = Array(bytes[5..<(5 + p3)])
        if bytes.count == 6 + p3 {
            let raw = Int(bytes[5 + p3])
            le = raw == 0 ? 256 : raw
        }
    }

    public var description: String {
        "APDU(\(hex([cla, ins, p1, p2])) Lc=\(data.count)\(le.map { " Le=\($0)" } ?? ""))"
    }
}

/// A response APDU: data followed by a status word.
public struct ResponseAPDU: Sendable, Hashable, CustomStringConvertible {
    public var data: [UInt8]
    public var status: StatusWord

    public init(data: [UInt8] = [], status: StatusWord) {
        self.data = data
        self.status = status
    }

    /// Parses `data || SW1 SW2`.
    public init(parsing bytes: [UInt8]) throws(SmartcardError) {
        guard bytes.count >= 2 else {
            throw SmartcardError(.malformedResponse, "a response needs 2 status bytes, got \(bytes.count) bytes")
        }
        data = Array(bytes.dropLast(2))
        status = StatusWord(bytes[bytes.count - 2], bytes[bytes.count - 1])
    }

    public var encoded: [UInt8] { data + [status.sw1, status.sw2] }

    /// Description without the data bytes (which can hold codes or key material).
    public var description: String { "Response(\(data.count) bytes, SW \(status))" }
}

/// Lowercase hex with spaces, for diagnostics of non-secret bytes.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { b in
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }.joined(separator: " ")
}
