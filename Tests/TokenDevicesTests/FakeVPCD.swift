import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The pcscd side of the vpcd protocol, for tests: a TCP server on 127.0.0.1 that frames messages with
/// a 2-byte big-endian length, as vpcd does.
final class FakeVPCD {
    let listener: Int32
    let port: UInt16
    private(set) var client: Int32 = -1

    /// Listens on `port` (0: any free port).
    init(port requested: UInt16 = 0) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FakeVPCDError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = requested.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else {
            Glibc.close(listener)
            throw FakeVPCDError("bind/listen on \(requested): errno \(errno)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    /// A port nobody listens on (bound, then released).
    static func unusedPort() throws -> UInt16 {
        let probe = try FakeVPCD()
        let port = probe.port
        probe.close()
        return port
    }

    /// Waits for the card to connect.
    func accept(timeout: Double = 5) throws {
        guard wait(listener, timeout: timeout) else { throw FakeVPCDError("no connection within \(timeout) s") }
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw FakeVPCDError("accept: errno \(errno)") }
        if client >= 0 { Glibc.close(client) }
        client = fd
    }

    func send(_ payload: [UInt8]) {
        let frame = [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
        _ = frame.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The next framed message, or nil on timeout or end of stream.
    func receive(timeout: Double = 5) -> [UInt8]? {
        guard let header = read(2, timeout: timeout) else { return nil }
        return read(Int(header[0]) << 8 | Int(header[1]), timeout: timeout)
    }

    /// Sends a command and returns the card's answer.
    func exchange(_ payload: [UInt8]) -> [UInt8]? {
        send(payload)
        return receive()
    }

    /// True if the card closed its end (EOF within `timeout`).
    func sawEndOfStream(timeout: Double = 5) -> Bool {
        guard wait(client, timeout: timeout) else { return false }
        var byte: UInt8 = 0
        return recv(client, &byte, 1, 0) == 0
    }

    /// Closes the connection to the card, as pcscd does when it exits.
    func dropClient() {
        if client >= 0 { Glibc.close(client) }
        client = -1
    }

    func close() {
        dropClient()
        Glibc.close(listener)
    }

    private func read(_ count: Int, timeout: Double) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            guard wait(client, timeout: timeout) else { return nil }
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress! + filled, count - filled, 0) }
            guard n > 0 else { return nil }
            filled += n
        }
        return buffer
    }

    private func wait(_ fd: Int32, timeout: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(timeout * 1000)) == 1
    }
}

struct FakeVPCDError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
