import Foundation
import OTP
import TokenDevices
import VirtualTokens

/// Bytes from hex text with optional spaces (test literals only).
func bytes(_ text: String) -> [UInt8] {
    do { return try Hex.decode(text) } catch { fatalError("bad hex literal in a test: \(text)") }
}

/// A short command APDU exactly as ykman encodes it: no Le, and an explicit Lc=00 when there is no data.
func apdu(_ ins: UInt8, _ p1: UInt8 = 0, _ p2: UInt8 = 0, _ data: [UInt8] = []) -> [UInt8] {
    precondition(data.count <= 255)
    return [0x00, ins, p1, p2, UInt8(data.count)] + data
}

/// BER-TLV written out by hand, independently of the module's TLV type.
func tlv(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
    value.count < 0x80 ? [tag, UInt8(value.count)] + value : [tag, 0x81, UInt8(value.count)] + value
}

/// 8-byte big-endian challenge.
func challenge(_ step: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: step >> (56 - 8 * UInt64($0))) } }

let oathAID = bytes("a0000005272101")

/// Splits a response into data and status word.
struct Answer: Equatable, CustomStringConvertible {
    var data: [UInt8]
    var sw: UInt16

    /// A response shorter than 2 bytes keeps its bytes as data with the impossible SW 0000.
    init(_ raw: [UInt8]) {
        guard raw.count >= 2 else {
            data = raw
            sw = 0
            return
        }
        data = Array(raw.dropLast(2))
        sw = UInt16(raw[raw.count - 2]) << 8 | UInt16(raw[raw.count - 1])
    }

    var description: String { "\(Hex.encode(data)) SW=\(String(sw, radix: 16))" }
}

/// A card under test with the commands spelled out as bytes.
struct TestCard {
    let applet: YKOATHApplet

    init(_ options: YKOATHApplet.Options = .init(), state: YKOATHCardState = YKOATHCardState()) {
        applet = YKOATHApplet(state: state, options: options)
    }

    @discardableResult
    func send(_ command: [UInt8]) -> Answer { Answer(applet.process(command)) }

    /// Sends and follows 61xx with SEND REMAINING, checking the chunking on the way.
    func sendChained(_ command: [UInt8], chunks: inout [Int]) -> Answer {
        var answer = send(command)
        var data = answer.data
        chunks = [answer.data.count]
        while answer.sw >> 8 == 0x61 {
            answer = send(apdu(0xA5))
            data += answer.data
            chunks.append(answer.data.count)
        }
        return Answer(data + [UInt8(answer.sw >> 8), UInt8(answer.sw & 0xFF)])
    }

    func sendChained(_ command: [UInt8]) -> Answer {
        var chunks: [Int] = []
        return sendChained(command, chunks: &chunks)
    }

    @discardableResult
    func select() -> Answer { send(apdu(0xA4, 0x04, 0x00, oathAID)) }

    @discardableResult
    func put(
        _ name: String, type: UInt8 = 0x20, algorithm: UInt8 = 0x01, digits: UInt8 = 6, key: [UInt8],
        touch: Bool = false, counter: UInt32? = nil
    ) -> Answer {
        var data = tlv(0x71, Array(name.utf8)) + tlv(0x73, [type | algorithm, digits] + key)
        if touch { data += [0x78, 0x02] }
        if let counter { data += tlv(0x7A, (0..<4).map { UInt8(truncatingIfNeeded: counter >> (24 - 8 * UInt32($0))) }) }
        return send(apdu(0x01, 0, 0, data))
    }

    func calculate(_ name: String, challenge: [UInt8], truncated: Bool = true) -> Answer {
        send(apdu(0xA2, 0x00, truncated ? 0x01 : 0x00, tlv(0x71, Array(name.utf8)) + tlv(0x74, challenge)))
    }
}

/// The code of a `76 05 digits u32` element: (u32 & 0x7FFFFFFF) mod 10^digits, zero-padded.
func codeString(fromTruncated element: [UInt8]) -> String? {
    guard element.count == 7, element[0] == 0x76, element[1] == 0x05 else { return nil }
    let digits = Int(element[2])
    let raw = element[3...6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7FFF_FFFF
    var modulus: UInt32 = 1
    for _ in 0..<digits { modulus *= 10 }
    let text = String(raw % modulus)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// Splits concatenated one-byte-tag TLVs (test-side parser; lengths below 0x80 or 81 xx).
func splitTLVs(_ data: [UInt8]) -> [(tag: UInt8, value: [UInt8])]? {
    var out: [(UInt8, [UInt8])] = []
    var i = 0
    while i < data.count {
        guard i + 1 < data.count else { return nil }
        let tag = data[i]
        var length = Int(data[i + 1])
        i += 2
        if length == 0x81 {
            guard i < data.count else { return nil }
            length = Int(data[i])
            i += 1
        }
        guard i + length <= data.count else { return nil }
        out.append((tag, Array(data[i..<(i + length)])))
        i += length
    }
    return out
}

/// Thread-safe event log for callbacks.
final class Recorder<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []

    func append(_ element: Element) {
        lock.lock()
        storage.append(element)
        lock.unlock()
    }

    var items: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
