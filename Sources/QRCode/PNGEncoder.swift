/// A minimal PNG writer for black-and-white images: 1-bit greyscale, no interlace, filter type 0 on every
/// row, and a zlib stream made of stored (uncompressed) deflate blocks.
///
/// Stored blocks keep the writer small and obviously correct, with no dependency on zlib; the cost is size:
/// 1 bit per pixel, uncompressed. A 41-module code at scale 8 with a 4-module quiet zone is a 392 × 392
/// image of about 20 KB.
enum PNGEncoder {
    /// The largest image side accepted (pixels), which bounds the memory an image can take (128 MiB).
    static let maximumSide = 32768

    /// A complete PNG file of a `width` × `height` image; `isBlack(x, y)` gives each pixel.
    static func encode(width: Int, height: Int, isBlack: (Int, Int) -> Bool) -> [UInt8] {
        precondition(width > 0 && height > 0, "an image needs at least one pixel")
        precondition(width <= maximumSide && height <= maximumSide, "the image is larger than \(maximumSide) pixels")

        // Scanlines: a filter-type byte (0, None), then pixels packed 8 per byte, most significant bit first.
        // In 1-bit greyscale, 0 is black and 1 is white.
        let rowBytes = (width + 7) / 8
        var raw = [UInt8](repeating: 0, count: height * (1 + rowBytes))
        for y in 0..<height {
            let rowStart = y * (1 + rowBytes) + 1
            for x in 0..<width where !isBlack(x, y) {
                raw[rowStart + x / 8] |= 0x80 >> UInt8(x % 8)
            }
        }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [
            1,  // bit depth
            0,  // colour type: greyscale
            0,  // compression method: deflate
            0,  // filter method: adaptive (per-row filter byte)
            0,  // interlace: none
        ]
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// length, type, data, CRC-32 of type and data (all big-endian).
    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        precondition(typeBytes.count == 4)
        precondition(data.count <= Int(Int32.max), "a PNG chunk holds at most 2^31 - 1 bytes")
        png.appendBigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        var crc = CRC32()
        crc.update(typeBytes)
        crc.update(data)
        png.appendBigEndian(crc.value)
    }

    /// A zlib stream (RFC 1950) of `data` in stored deflate blocks (RFC 1951 section 3.2.4), Adler-32 at the end.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        // CMF 0x78: deflate, 32 KiB window. FLG 0x01: no dictionary, level "fastest", and 0x7801 % 31 == 0.
        var out: [UInt8] = [0x78, 0x01]
        out.reserveCapacity(data.count + data.count / 65535 * 5 + 16)
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final = offset + length == data.count
            // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2; the rest of the byte pads to a byte boundary.
            out.append(final ? 1 : 0)
            let len = UInt16(length)
            out.append(UInt8(len & 0xFF))
            out.append(UInt8(len >> 8))
            out.append(UInt8(~len & 0xFF))
            out.append(UInt8(~len >> 8))
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    /// Adler-32 (RFC 1950 section 8.2).
    static func adler32(_ data: [UInt8]) -> UInt32 {
        let modulus: UInt32 = 65521
        var a: UInt32 = 1
        var b: UInt32 = 0
        // 5552 is the longest run for which b cannot overflow 32 bits before the reduction.
        var start = 0
        while start < data.count {
            let end = min(start + 5552, data.count)
            for index in start..<end {
                a &+= UInt32(data[index])
                b &+= a
            }
            a %= modulus
            b %= modulus
            start = end
        }
        return b << 16 | a
    }
}

/// CRC-32 as PNG (and zlib, Ethernet) uses it: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.
struct CRC32 {
    private(set) var state: UInt32 = 0xFFFF_FFFF

    static let table: [UInt32] = (0..<256).map { (n: UInt32) in
        var c = n
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    mutating func update(_ bytes: some Sequence<UInt8>) {
        let table = Self.table
        for byte in bytes {
            state = table[Int((state ^ UInt32(byte)) & 0xFF)] ^ (state >> 8)
        }
    }

    var value: UInt32 { state ^ 0xFFFF_FFFF }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
