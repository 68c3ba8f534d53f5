import Foundation
import MFAServer
import OTP
import SeedImport
import TokenDevices

/// One parser of hostile input and the properties it must keep on any bytes: no crash, no hang, a
/// typed error or a result that a second, independent reader agrees with. A broken property stops
/// the process (`fatalError`), which libFuzzer records as a crash with its reproducer.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// The verify fast path's request-head scanner, against NIO's HTTP/1 decoder.
    case scanner
    /// The fast path's verify-body reader, against `JSONDecoder`.
    case verifyJSON = "verify-json"
    /// PSKC seed files: plaintext and pre-shared-key protected.
    case pskc
    case csv
    /// `otpauth://` URIs: what parses, prints and parses back the same.
    case otpauth
    /// Base32, hex and modhex: what decodes, encodes and decodes back the same.
    case codecs
    /// APDU responses and commands, BER-TLV.
    case apdu
    /// HID reports: YubiKey OTP status reports and keyboard reports of a typed OTP.
    case hid

    /// The target of this process (`MFA_FUZZ_TARGET`).
    static let selected: FuzzTarget = {
        guard let name = ProcessInfo.processInfo.environment["MFA_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            fatalError("set MFA_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .scanner: ScannerOracle.check(bytes)
        case .verifyJSON: Self.verifyJSON(bytes)
        case .pskc: Self.seedFile(bytes, .pskc)
        case .csv: Self.seedFile(bytes, .csv)
        case .otpauth: Self.otpauth(bytes)
        case .codecs: Self.codecs(bytes)
        case .apdu: Self.apdu(bytes)
        case .hid: Self.hid(bytes)
        }
    }

    private struct Body: Decodable, Equatable {
        let user: String
        let code: String
    }

    static func verifyJSON(_ bytes: [UInt8]) {
        guard let fast = VerifyRequest(simpleJSON: bytes) else { return }
        guard let reference = try? JSONDecoder().decode(Body.self, from: Data(bytes)) else {
            fatalError("the fast reader took a body JSONDecoder refuses: \(bytes)")
        }
        guard Array(reference.user.utf8) == Array(fast.user.utf8), Array(reference.code.utf8) == Array(fast.code.utf8) else {
            fatalError("the fast reader and JSONDecoder read different values: \(bytes)")
        }
    }

    static let psk = try! TransportProtection.preSharedKey(hex: "12345678901234567890123456789012")

    static func seedFile(_ bytes: [UInt8], _ format: SeedFileFormat) {
        // The length picks the protection, so both the plaintext and the decrypting paths run.
        let protection: TransportProtection = bytes.count % 2 == 0 ? .none : psk
        do {
            let file = try SeedFileReader.read(bytes, format: format, protection: protection)
            for entry in file.entries { _ = SeedChecks.check(entry, now: 0) }
        } catch {
            guard !error.message.isEmpty else { fatalError("a seed-file error without a message: \(error.code.rawValue)") }
        }
    }

    static func otpauth(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let uri = try? OTPAuthURI(parsing: text) else { return }
        let printed = uri.uriString
        guard let again = try? OTPAuthURI(parsing: printed), again.uriString == printed else {
            fatalError("a parsed otpauth URI does not print and parse back: \(text.debugDescription) → \(printed.debugDescription)")
        }
    }

    static func codecs(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let decoded = try? Base32.decode(text), (try? Base32.decode(Base32.encode(decoded))) != decoded {
            fatalError("Base32 round trip: \(text.debugDescription)")
        }
        if let decoded = try? Hex.decode(text), (try? Hex.decode(Hex.encode(decoded))) != decoded {
            fatalError("hex round trip: \(text.debugDescription)")
        }
        if let decoded = try? Modhex.decode(text), (try? Modhex.decode(Modhex.encode(decoded))) != decoded {
            fatalError("modhex round trip: \(text.debugDescription)")
        }
    }

    static func apdu(_ bytes: [UInt8]) {
        if let response = try? ResponseAPDU(parsing: bytes) { _ = try? TLV.parse(response.data) }
        if let command = try? CommandAPDU(parsing: bytes), let encoded = try? command.encoded(), (try? CommandAPDU(parsing: encoded))?.data != command.data {
            fatalError("a parsed command APDU does not encode and parse back: \(bytes)")
        }
        _ = try? TLV.parse(bytes)
    }

    static func hid(_ bytes: [UInt8]) {
        _ = try? YubiOTPStatus(report: bytes)
        var keyboard = HIDKeyboardDecoder()
        var start = 0
        while start < bytes.count, !keyboard.finished {
            keyboard.feed(Array(bytes[start..<min(bytes.count, start + 8)]))
            start += 8
        }
    }
}
