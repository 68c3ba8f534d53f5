/// The CRC-16 of the YubiKey protocols (ISO 13239 / X.25 without final inversion): initial value
/// 0xFFFF, reflected polynomial 0x8408.
///
/// Frames carry `crc16(payload)`; responses, configuration records and Yubico OTP blocks carry its
/// one's complement (`~crc16`), so running the CRC over data followed by that value (little-endian)
/// leaves the fixed residual ``residual``.
public enum YubiCRC {
    /// The value left by a CRC over data plus its appended `~crc16` (little-endian).
    public static let residual: UInt16 = 0xF0B8

    /// CRC-16 of `bytes`.
    public static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                let lsb = crc & 1
                crc >>= 1
                if lsb != 0 { crc ^= 0x8408 }
            }
        }
        return crc
    }

    /// Whether `bytes` (data followed by `~crc16(data)` little-endian) leaves the residual.
    public static func check<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        crc16(bytes) == residual
    }

    /// `~crc16(data)` as two little-endian bytes, to append.
    public static func complementBytes<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        let value = ~crc16(data)
        return [UInt8(value & 0xFF), UInt8(value >> 8)]
    }
}
