import Foundation
import TestSupport
import Testing
import TokenDevices
import VirtualTokens

#if canImport(Glibc)
import Glibc
#endif

/// The `token-emulator` executable, against a fake vpcd on an ephemeral port.
@Suite("token-emulator CLI")
struct TokenEmulatorCLITests {
    static var executable: String { TestTools.product("token-emulator") }

    /// A running emulator with its stdout readable line by line.
    final class Running {
        let process = Process()
        let stdout = Pipe()
        let stderr = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: TokenEmulatorCLITests.executable)
            process.arguments = arguments
            process.standardOutput = stdout
            process.standardError = stderr
            try TestTools.launch(process)
        }

        /// The first line on stdout (nil after `timeout` seconds).
        func firstLine(timeout: Double = 10) -> String? {
            let fd = stdout.fileHandleForReading.fileDescriptor
            var line: [UInt8] = []
            let deadline = Date(timeIntervalSinceNow: timeout)
            while Date() < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) == 1 else { continue }
                var byte: UInt8 = 0
                guard read(fd, &byte, 1) == 1 else { return nil }
                if byte == 0x0A { return String(decoding: line, as: UTF8.self) }
                line.append(byte)
            }
            return nil
        }

        func waitForExit(timeout: Double = 10) -> Int32? {
            guard eventually(timeout: timeout, { !process.isRunning }) else {
                process.terminate()
                return nil
            }
            return process.terminationStatus
        }
    }

    @Test("bad arguments and unreadable state files exit 2 with a message")
    func badArguments() throws {
        let junk = try YKOATHCardStateTests.temporaryPath()
        try Data("{\"format\": 7}".utf8).write(to: URL(fileURLWithPath: junk))
        let cases: [[String]] = [
            ["oath", "--vpcd", "nope:99999"], ["oath", "--vpcd", "127.0.0.1:"], ["oath", "--touch", "maybe"],
            ["oath", "--hostile", "evil"], ["oath", "--remove-after", "x"], ["oath", "--state", junk],
            ["oath", "--firmware-version", "5.4"], ["oath", "--state", "/nonexistent-dir/state.json"],
        ]
        for arguments in cases {
            let result = try TestTools.run(Self.executable, arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.lowercased().contains("error"), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("announces the insertion, saves after every change, exits 0 on SIGTERM")
    func lifecycle() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let statePath = try YKOATHCardStateTests.temporaryPath()
        let emulator = try Running(["oath", "--vpcd", "127.0.0.1:\(server.port)", "--state", statePath])
        try server.accept()
        #expect(emulator.firstLine() == "token-emulator: OATH card inserted into vpcd at 127.0.0.1:\(server.port)")
        #expect(server.exchange([0x04]) == VPCDConnection.yubiKey5NFCATR)
        let select = try #require(server.exchange(apdu(0xA4, 0x04, 0x00, oathAID)))
        let salt = Array(select[7..<15])
        let put = tlv(0x71, Array("hot".utf8)) + tlv(0x73, [0x11, 0x06] + Array("12345678901234567890".utf8))
        #expect(server.exchange(apdu(0x01, 0, 0, put)) == [0x90, 0x00])
        let first = try #require(server.exchange(apdu(0xA2, 0, 1, tlv(0x71, Array("hot".utf8)) + [0x74, 0x00])))
        #expect(codeString(fromTruncated: Array(first.dropLast(2))) == "755224")
        // Already on disk, before any orderly shutdown.
        let saved = try YKOATHCardState.load(from: statePath)
        #expect(saved.salt == salt)
        #expect(saved.credentials.first?.counter == 1)

        emulator.process.interrupt()  // SIGINT
        #expect(emulator.waitForExit() == 0)
        #expect(server.sawEndOfStream())

        // A new emulator on the same file continues where the first stopped.
        let again = try Running(["oath", "--vpcd", "127.0.0.1:\(server.port)", "--state", statePath])
        try server.accept()
        #expect(again.firstLine() != nil)
        _ = server.exchange(apdu(0xA4, 0x04, 0x00, oathAID))
        let second = try #require(server.exchange(apdu(0xA2, 0, 1, tlv(0x71, Array("hot".utf8)) + [0x74, 0x00])))
        #expect(codeString(fromTruncated: Array(second.dropLast(2))) == "287082")
        again.process.terminate()  // SIGTERM
        #expect(again.waitForExit() == 0)
    }

    @Test("--remove-after N pulls the card after N APDUs and exits 0")
    func removeAfter() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let emulator = try Running(["oath", "--vpcd", "127.0.0.1:\(server.port)", "--remove-after", "1", "--touch", "timeout"])
        try server.accept()
        #expect(emulator.firstLine() != nil)
        #expect(server.exchange(apdu(0xA4, 0x04, 0x00, oathAID)) != nil)
        #expect(server.sawEndOfStream())
        #expect(emulator.waitForExit() == 0)
    }
}
