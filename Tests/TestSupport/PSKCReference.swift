import Foundation

/// Writes PSKC files with python-pskc (`Tests/Reference/write_pskc.py`), the independent reference
/// writer for import tests.
public enum PSKCReference {
    /// One token for the writer.
    public struct Token: Encodable, Sendable {
        public var serial: String
        public var seed_hex: String
        public var type: String
        public var digits: Int
        public var counter: Int64
        public var period: Int64
        public var suite: String?

        public init(serial: String, seedHex: String, type: String, digits: Int = 6, counter: Int64 = 0, period: Int64 = 30, suite: String? = nil) {
            self.serial = serial
            self.seed_hex = seedHex
            self.type = type
            self.digits = digits
            self.counter = counter
            self.period = period
            self.suite = suite
        }
    }

    public enum Mode: String, Sendable, CaseIterable {
        case plain, psk, pskAES256 = "psk-aes256", keyWrap = "kw", pbkdf2
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Reference/write_pskc.py").path
    }

    /// A Python interpreter that can import `pskc` (Debian's python3-pskc lives in the system Python).
    public static func interpreter() throws -> String {
        for candidate in ["/usr/bin/python3", "python3"] {
            if let result = try? TestTools.run(candidate, ["-c", "import pskc"]), result.status == 0 { return candidate }
        }
        throw ReferenceError("python-pskc is not installed (apt-get install python3-pskc; scripts/setup.sh does)")
    }

    /// The bytes of a PSKC file holding `tokens`, protected per `mode` with `secret` (hex PSK or passphrase).
    public static func write(_ tokens: [Token], mode: Mode, secret: String? = nil) throws -> [UInt8] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pskc-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let input = String(decoding: try JSONEncoder().encode(tokens), as: UTF8.self)
        let result = try TestTools.run(try interpreter(), [script, mode.rawValue, output] + (secret.map { [$0] } ?? []), input: input)
        guard result.status == 0, let data = FileManager.default.contents(atPath: output) else {
            throw ReferenceError("write_pskc.py failed: \(result.stderr)")
        }
        return [UInt8](data)
    }

    public struct ReferenceError: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }
}
