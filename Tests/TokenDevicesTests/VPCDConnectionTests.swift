import Foundation
import Testing
import TokenDevices
import VirtualTokens

/// The vpcd client against a fake vpcd on 127.0.0.1 (ephemeral ports; never the real 35963/35964).
@Suite("vpcd connection")
struct VPCDConnectionTests {
    static let select = apdu(0xA4, 0x04, 0x00, oathAID)

    static func connection(
        _ server: FakeVPCD?, port: UInt16? = nil, applet: YKOATHApplet = YKOATHApplet(), removeAfter: Int? = nil,
        connectTimeout: Double? = nil, events: Recorder<VPCDConnection.Event>
    ) -> VPCDConnection {
        VPCDConnection(
            card: applet,
            options: .init(port: port ?? server!.port, removeAfter: removeAfter, retryInterval: 0.05, connectTimeout: connectTimeout)
        ) { events.append($0) }
    }

    @Test("HOST:PORT parsing")
    func addresses() throws {
        func parsed(_ text: String) throws -> String {
            let address = try VPCDConnection.parseAddress(text)
            return "\(address.host) \(address.port)"
        }
        #expect(try parsed("127.0.0.1:35964") == "127.0.0.1 35964")
        #expect(try parsed("localhost") == "localhost 35963")
        #expect(try parsed("[::1]:4000") == "::1 4000")
        for bad in ["", ":35963", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "host:port", "::1:5", "[::1", "[::1]x"] {
            #expect(throws: VirtualTokenError(.invalidAddress, ""), "\(bad)") { try VPCDConnection.parseAddress(bad) }
        }
    }

    @Test("get ATR is answered, power on/off/reset get no reply and reset the session, APDUs are answered")
    func protocolExchange() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let events = Recorder<VPCDConnection.Event>()
        let applet = YKOATHApplet()
        let connection = Self.connection(server, applet: applet, events: events)
        connection.start()
        try server.accept()
        #expect(server.exchange([0x04]) == VPCDConnection.yubiKey5NFCATR)
        server.send([0x01])
        let selected = try #require(server.exchange(Self.select))
        #expect(Array(selected.prefix(5)) == bytes("79 03 05 04 03") && Array(selected.suffix(2)) == [0x90, 0x00])
        #expect(server.exchange(apdu(0xA1)) == [0x90, 0x00])
        // Power off: no reply, and the applet is deselected (LIST is unknown again).
        server.send([0x00])
        #expect(server.exchange(apdu(0xA1)) == [0x6D, 0x00])
        _ = server.exchange(Self.select)
        server.send([0x02])
        #expect(server.exchange([0x04]) == VPCDConnection.yubiKey5NFCATR)
        #expect(server.exchange(apdu(0xA1)) == [0x6D, 0x00])
        #expect(connection.apduCount == 5)
        #expect(connection.isConnected)
        connection.stop()
        connection.waitUntilFinished()
        #expect(server.sawEndOfStream())
        #expect(events.items == [.connected(host: "127.0.0.1", port: server.port), .finished])
    }

    @Test("connection refused is retried until vpcd listens")
    func retries() throws {
        let port = try FakeVPCD.unusedPort()
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(nil, port: port, events: events)
        connection.start()
        usleep(300_000)
        #expect(!connection.isConnected)
        let server = try FakeVPCD(port: port)
        defer { server.close() }
        try server.accept()
        #expect(server.exchange([0x04]) == VPCDConnection.yubiKey5NFCATR)
        connection.stop()
        connection.waitUntilFinished()
        #expect(events.items.first == .connected(host: "127.0.0.1", port: port))
    }

    @Test("a closed socket (pcscd restart) reconnects and resets the session")
    func reconnects() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(server, events: events)
        connection.start()
        try server.accept()
        _ = server.exchange(Self.select)
        server.dropClient()
        try server.accept()
        #expect(server.exchange(apdu(0xA1)) == [0x6D, 0x00])
        connection.stop()
        connection.waitUntilFinished()
        let connected = VPCDConnection.Event.connected(host: "127.0.0.1", port: server.port)
        #expect(events.items == [connected, .disconnected, connected, .finished])
    }

    @Test("removeAfter closes the socket after N APDUs and stops")
    func removal() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(server, removeAfter: 2, events: events)
        connection.start()
        try server.accept()
        #expect(server.exchange([0x04]) != nil)  // controls do not count
        #expect(server.exchange(Self.select) != nil)
        #expect(server.exchange(apdu(0xA1)) == [0x90, 0x00])
        #expect(server.sawEndOfStream())
        connection.waitUntilFinished()
        #expect(events.items.contains(.removed(afterAPDUs: 2)))
        #expect(events.items.last == .finished)
    }

    @Test("connectTimeout gives up with a failure event")
    func timeout() throws {
        let port = try FakeVPCD.unusedPort()
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(nil, port: port, connectTimeout: 0.3, events: events)
        let start = Date()
        connection.start()
        connection.waitUntilFinished()
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(events.items == [.failed(VirtualTokenError(.connectionFailed, "")), .finished])
    }

    @Test("a vpcd that never polls the card (slot taken by another card) is reported once")
    func silence() throws {
        let server = try FakeVPCD()
        defer { server.close() }
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(server, events: events)
        connection.start()
        try server.accept()
        #expect(eventually(timeout: VPCDConnection.silenceWarning + 2) { events.items.contains(.silent) })
        #expect(server.exchange([0x04]) == VPCDConnection.yubiKey5NFCATR)
        connection.stop()
        connection.waitUntilFinished()
        #expect(events.items == [.connected(host: "127.0.0.1", port: server.port), .silent, .finished])
    }

    @Test("stop during the retry loop ends promptly")
    func stopWhileRetrying() throws {
        let port = try FakeVPCD.unusedPort()
        let events = Recorder<VPCDConnection.Event>()
        let connection = Self.connection(nil, port: port, events: events)
        connection.start()
        usleep(150_000)
        connection.stop()
        let start = Date()
        connection.waitUntilFinished()
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(events.items == [.finished])
    }
}
