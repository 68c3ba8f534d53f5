import Foundation
import TestSupport

/// A virtual YubiKey (1050:0407) under umockdev: `Tests/Fixtures/virtual-yubikey/virtual_yubikey.py`
/// builds a testbed with the device and an ioctl handler, then runs mfactl inside it with real
/// libusb. State (slots, counters) persists in a temporary file between runs.
struct VirtualYubiKey {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/virtual-yubikey/virtual_yubikey.py").standardized.path
    /// The system Python (where Debian's python3-gi and gir1.2-umockdev live), not a pyenv shim.
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    let directory: URL
    var state: String { directory.appendingPathComponent("state.json").path }
    var report: String { directory.appendingPathComponent("report.json").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vyk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `mfactl arguments` next to the virtual key; `options` go to the emulator (--mode, --touch).
    /// The wait holds no thread of Swift's cooperative pool (`OffThePool`).
    func mfactl(_ arguments: [String], options: [String] = [], timeout: TimeInterval = 60) async throws -> ProcessResult {
        let command = [Self.script, "--state", state, "--report", report, "--timeout", "45"] + options + ["--", TestTools.product("mfactl")] + arguments
        return try await TestTools.run(Self.python, command, timeout: timeout)
    }

    /// What the emulator recorded at exit: kernel drivers per interface, detach/attach counts.
    func lastReport() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// HMAC-SHA1 by the openssl command line tool (independent of the project and of the emulator).
    static func opensslHMAC(keyHex: String, messageHex: String) async throws -> String {
        let message = directoryForTemp().appendingPathComponent("msg-\(UUID().uuidString)")
        try Data(hexString: messageHex).write(to: message)
        defer { try? FileManager.default.removeItem(at: message) }
        let result = try await TestTools.run("openssl", ["dgst", "-sha1", "-mac", "HMAC", "-macopt", "hexkey:\(keyHex)", message.path])
        return String(result.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func directoryForTemp() -> URL { FileManager.default.temporaryDirectory }

    /// HOTP by oathtool.
    static func oathtoolHOTP(keyHex: String, counter: Int, digits: Int) async throws -> String {
        let result = try await TestTools.run("oathtool", ["--hotp", "-d", String(digits), "-c", String(counter), keyHex])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

}

extension Data {
    init(hexString: String) {
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2)
            bytes.append(UInt8(hexString[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes)
    }
}
