import OTP
/// A command frame of the YubiKey OTP interface: 64 payload bytes, the slot (command) byte, the
/// CRC-16 of the payload (little-endian) and 3 filler bytes — 70 bytes, sent as ten 8-byte feature
/// reports of 7 frame bytes each plus a sequence byte `0x80 | index`.
public struct YubiOTPFrame: Sendable, Hashable {
    /// Payload capacity.
    public static let payloadSize = 64
    /// Bytes of frame data per feature report.
    public static let chunkSize = 7
    /// Size of a feature report.
    public static let reportSize = 8

    public let slot: UInt8
    /// Exactly 64 bytes (shorter payloads are zero-padded).
    public let payload: [UInt8]

    /// A frame for `slot` (a command byte such as 0x10 serial, 0x30 HMAC slot 1).
    public init(slot: UInt8, payload: [UInt8] = []) throws(YubiOTPError) {
        guard payload.count <= Self.payloadSize else {
            throw YubiOTPError(.invalidArgument, "a frame payload holds at most 64 bytes, got \(payload.count)")
        }
        self.slot = slot
        self.payload = payload + [UInt8](repeating: 0, count: Self.payloadSize - payload.count)
    }

    /// The 70 frame bytes.
    public var bytes: [UInt8] {
        let crc = YubiCRC.crc16(payload)
        return payload + [slot, UInt8(crc & 0xFF), UInt8(crc >> 8), 0, 0, 0]
    }

    /// The feature reports to send, in order. All-zero chunks in the middle are left out (the key
    /// zero-fills them); the first and the last are always sent.
    public var reports: [[UInt8]] {
        let data = bytes
        var reports: [[UInt8]] = []
        let count = data.count / Self.chunkSize
        for index in 0..<count {
            let chunk = Array(data[index * Self.chunkSize..<(index + 1) * Self.chunkSize])
            if index != 0, index != count - 1, chunk.allSatisfy({ $0 == 0 }) { continue }
            reports.append(chunk + [0x80 | UInt8(index)])
        }
        return reports
    }
}

/// The last byte of a feature report read from the key: its state flags.
public enum YubiOTPReportFlags {
    /// The key is still taking the previous chunk: wait before writing the next.
    public static let writeFlag: UInt8 = 0x80
    /// A response is pending; the low 5 bits are the chunk's sequence number.
    public static let responsePending: UInt8 = 0x40
    /// The key waits for a touch (challenge-response with touch).
    public static let touchPending: UInt8 = 0x20
    /// Mask of the response sequence number.
    public static let sequenceMask: UInt8 = 0x1F
    /// The report that resets the key's read state after a response was read.
    public static let resetReport: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x8F]
}
