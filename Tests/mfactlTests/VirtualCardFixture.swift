import Foundation
import TestSupport
import Testing
import TokenDevices
import VirtualTokens

/// A virtual YKOATH card (`token-emulator oath`) inserted into pcscd's vpcd reader "Virtual PCD 00 00"
/// for one test. pcscd with the vpcd driver must be running (scripts/test.sh and .ci/run start it).
final class VirtualCard {
    static let reader = "Virtual PCD 00 00"
    static let port = 35963

    let emulator: BackgroundProcess
    let home: URL
    let stateFile: URL

    init(_ options: [String] = [], keepState: URL? = nil) async throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-card-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        stateFile = keepState ?? home.appendingPathComponent("card.json")
        try Self.requirePCSCD()
        try await Self.waitForCard(present: false)
        emulator = try BackgroundProcess(
            TestTools.product("token-emulator"),
            ["oath", "--vpcd", "127.0.0.1:\(Self.port)", "--state", stateFile.path] + options)
        try #require(
            await emulator.waitForOutput("inserted", timeout: 20),
            "token-emulator did not connect to vpcd: \(emulator.stdout) \(emulator.stderr)")
        try await Self.waitForCard(present: true)
    }

    deinit {
        // Pulled out without waiting for pcscd: the next card waits for the reader to be empty.
        if emulator.process.isRunning { emulator.stop() }
        try? FileManager.default.removeItem(at: home)
    }

    /// Pulls the card out and waits until pcscd has noticed.
    func stop() async {
        guard emulator.process.isRunning else { return }
        await emulator.stop()
        try? await Self.waitForCard(present: false)
    }

    /// Runs mfactl against this card's reader.
    func mfactl(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await TestTools.run(TestTools.product("mfactl"), arguments, environment: environment, timeout: 60)
    }

    /// Runs the independent client ykman against this card (its own HOME: no remembered passwords).
    func ykman(_ arguments: [String]) async throws -> ProcessResult {
        try await TestTools.run("ykman", ["--reader", Self.reader] + arguments, environment: ["HOME": home.path], timeout: 60)
    }

    static func requirePCSCD() throws {
        let client: PCSCClient
        do { client = try PCSCClient() } catch {
            Issue.record("pcscd is not running (\(error)); start it with vpcd: scripts/test.sh does")
            throw error
        }
        defer { client.close() }
        let readers = try client.performBlocking { try $0.readers() }
        try #require(readers.contains(reader), "pcscd has no vpcd reader '\(reader)' (install vsmartcard-vpcd); readers: \(readers)")
    }

    /// Waits (up to 15 s) until pcscd reports the card present or absent in the vpcd reader.
    static func waitForCard(present: Bool) async throws {
        let client = try PCSCClient()
        defer { client.close() }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let state = try client.performBlocking { try $0.status(of: [reader]) }
            if state.first?.cardPresent == present { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the card in '\(reader)' did not become \(present ? "present" : "absent")")
    }
}

/// oathtool's codes for a TOTP secret at each of `times` (to bracket a tool that reads the clock).
func oathtoolTOTP(_ base32: String, times: [Int64], algorithm: String = "sha1", digits: Int = 6, period: Int = 30) async throws -> Set<String> {
    var codes = Set<String>()
    for time in times {
        let r = try await TestTools.run(
            "oathtool", ["--totp=\(algorithm)", "-d", String(digits), "-s", "\(period)s", "-N", "@\(time)", "-b", base32])
        codes.insert(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return codes
}

func oathtoolHOTP(_ base32: String, counter: Int, digits: Int = 6) async throws -> String {
    try await TestTools.run("oathtool", ["--hotp", "-d", String(digits), "-c", String(counter), "-b", base32])
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

var unixNow: Int64 { Int64(Date().timeIntervalSince1970) }
