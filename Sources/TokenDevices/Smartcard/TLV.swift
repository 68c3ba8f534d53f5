/// One BER-TLV element with a one-byte tag, as the YKOATH applet uses them.
///
/// Lengths: one byte below 0x80, `81 xx`, or `82 xx xx`. Parsing keeps the order and duplicates
/// (RENAME carries two `71` tags) and rejects truncated or over-long values with the offset.
public struct TLV: Sendable, Hashable {
    public var tag: UInt8
    public var value: [UInt8]

    public init(_ tag: UInt8, _ value: [UInt8]) {
        self.tag = tag
        self.value = value
    }

    /// The encoded element.
    public var encoded: [UInt8] {
        var out: [UInt8] = [tag]
        TLV.appendLength(value.count, to: &out)
        return out + value
    }

    static func appendLength(_ count: Int, to out: inout [UInt8]) {
        if count < 0x80 {
            out.append(UInt8(count))
        } else if count <= 0xFF {
            out += [0x81, UInt8(count)]
        } else {
            out += [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
        }
    }

    /// Parses a sequence of TLVs covering all of `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(SmartcardError) -> [TLV] {
        var reader = TLVReader(bytes)
        var result: [TLV] = []
        while !reader.isAtEnd { result.append(try reader.next()) }
        return result
    }

    /// Encodes a sequence of TLVs.
    public static func encode(_ items: [TLV]) -> [UInt8] { items.flatMap(\.encoded) }
}

/// Reads TLVs one at a time, so protocols with irregular elements (YKOATH's bare `78 xx` property)
/// can take a raw byte where they must.
public struct TLVReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next tag without consuming it.
    public var peekTag: UInt8? { isAtEnd ? nil : bytes[offset] }

    /// Consumes one raw byte (for elements without a length byte).
    public mutating func rawByte() throws(SmartcardError) -> UInt8 {
        guard !isAtEnd else { throw SmartcardError(.malformedTLV, "TLV data ends at offset \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Consumes the next TLV.
    public mutating func next() throws(SmartcardError) -> TLV {
        let start = offset
        let tag = try rawByte()
        if tag & 0x1F == 0x1F {
            throw SmartcardError(.malformedTLV, "multi-byte tag 0x\(hex([tag])) at offset \(start) is not supported")
        }
        var length = Int(try rawByte())
        if length == 0x81 {
            length = Int(try rawByte())
        } else if length == 0x82 {
            length = Int(try rawByte()) << 8 | Int(try rawByte())
        } else if length > 0x80 || length == 0x80 {
            throw SmartcardError(.malformedTLV, "unsupported length form 0x\(hex([UInt8(length)])) for tag 0x\(hex([tag])) at offset \(start)")
        }
        guard bytes.count - offset >= length else {
            throw SmartcardError(
                .malformedTLV,
                "tag 0x\(hex([tag])) at offset \(start) declares \(length) bytes but only \(bytes.count - offset) remain")
        }
        defer { offset += length }
        return TLV(tag, Array(bytes[offset..<(offset + length)]))
    }
}

extension Array where Element == TLV {
    /// The value of the first element with `tag`.
    public func first(_ tag: UInt8) -> [UInt8]? { first(where: { $0.tag == tag })?.value }
}
