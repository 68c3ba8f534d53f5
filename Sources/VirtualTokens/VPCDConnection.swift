import TokenDevices
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A card that answers raw APDUs, as a virtual reader needs it.
public protocol VirtualCard: AnyObject, Sendable {
    /// The full response APDU (data, SW1, SW2) to a command APDU.
    func process(_ apdu: [UInt8]) -> [UInt8]
    /// Power off/on or warm reset: forget the session, keep the persistent data.
    func powerCycle()
}

extension YKOATHApplet: VirtualCard {}

/// Inserts a ``VirtualCard`` into pcscd's vsmartcard `vpcd` reader driver.
///
/// vpcd (inside pcscd) listens on TCP 35963 for reader slot 0 (`Virtual PCD 00 00`) and 35964 for slot 1;
/// the card is the TCP client. Both directions frame each message as a 2-byte big-endian length and the
/// payload. A 1-byte message from vpcd is a control: `00` power off, `01` power on, `02` reset (no reply;
/// the card's session is reset) and `04` get ATR (reply: the ATR). Any longer message is a command APDU
/// and gets exactly one response APDU.
///
/// The connection runs on a dedicated thread (blocking POSIX sockets, never the Swift concurrency pool).
/// While the reader is not there (pcscd not started yet: connection refused) it retries every
/// ``Options/retryInterval``; when vpcd closes the socket (pcscd restarted) it reconnects, until
/// ``stop()``. It only ever connects to the host it is given.
public final class VPCDConnection: @unchecked Sendable {
    /// vpcd's port for reader slot 0 (slot 1 is 35964).
    public static let defaultPort: UInt16 = 35963
    /// The ATR of a YubiKey 5 NFC over USB CCID (T=1; historical bytes end in "YubiKey").
    public static let yubiKey5NFCATR: [UInt8] = [
        0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59, 0x75,
        0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
    ]

    public struct Options: Sendable, Hashable {
        public var host: String
        public var port: UInt16
        /// The answer to vpcd's get-ATR control message.
        public var atr: [UInt8]
        /// After this many APDUs, close the socket and stop: the card is pulled out mid-session.
        public var removeAfter: Int?
        /// Seconds between connection attempts while vpcd is not listening.
        public var retryInterval: Double
        /// Give up (``Event/failed(_:)``) if the first connection is not made within this many seconds;
        /// nil keeps trying until ``stop()``.
        public var connectTimeout: Double?
        /// Reconnect when vpcd closes the socket; otherwise stop.
        public var reconnect: Bool

        public init(
            host: String = "127.0.0.1", port: UInt16 = VPCDConnection.defaultPort,
            atr: [UInt8] = VPCDConnection.yubiKey5NFCATR, removeAfter: Int? = nil, retryInterval: Double = 0.2,
            connectTimeout: Double? = nil, reconnect: Bool = true
        ) {
            self.host = host
            self.port = port
            self.atr = atr
            self.removeAfter = removeAfter
            self.retryInterval = retryInterval
            self.connectTimeout = connectTimeout
            self.reconnect = reconnect
        }
    }

    /// What happened to the connection; reported on the connection's thread.
    public enum Event: Sendable, Hashable {
        /// Connected to vpcd (first time or again after a disconnection): the card is in the reader.
        case connected(host: String, port: UInt16)
        /// Connected, but vpcd has said nothing for ``VPCDConnection/silenceWarning`` seconds. pcscd polls a
        /// card several times a second, so the slot is most likely served to another card (vpcd accepts
        /// one per port; the kernel still completes further connections into its backlog).
        case silent
        /// vpcd closed the socket; the card is out of the reader until it reconnects.
        case disconnected
        /// ``Options/removeAfter`` APDUs were answered; the socket is closed and the connection stopped.
        case removed(afterAPDUs: Int)
        /// The connection gave up (address unusable, or ``Options/connectTimeout`` passed).
        case failed(VirtualTokenError)
        /// The connection thread has ended (after ``stop()``, a removal or a failure).
        case finished
    }

    /// Seconds without any message from vpcd after connecting before ``Event/silent`` is reported.
    public static let silenceWarning = 3.0

    public let options: Options
    private let card: any VirtualCard
    private let onEvent: @Sendable (Event) -> Void
    // Guarded by `condition`:
    private let condition = NSCondition()
    private var started = false
    private var stopping = false
    private var finished = false
    private var socketFD: Int32 = -1
    private var answered = 0
    private var connected = false

    public init(card: any VirtualCard, options: Options = Options(), onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.card = card
        self.options = options
        self.onEvent = onEvent
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT`, or a bare host (port 35963).
    public static func parseAddress(_ text: String) throws(VirtualTokenError) -> (host: String, port: UInt16) {
        var host = Substring(text)
        var portText: Substring? = nil
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw VirtualTokenError(.invalidAddress, "'\(text)': an IPv6 address needs a closing ']'")
            }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw VirtualTokenError(.invalidAddress, "'\(text)': expected ':PORT' after ']'")
                }
                portText = rest.dropFirst()
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard host.firstIndex(of: ":") == colon else {
                throw VirtualTokenError(.invalidAddress, "'\(text)': write IPv6 addresses as [ADDRESS]:PORT")
            }
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw VirtualTokenError(.invalidAddress, "'\(text)': the host is empty") }
        var port = defaultPort
        if let portText {
            guard let value = UInt16(portText), value > 0 else {
                throw VirtualTokenError(.invalidAddress, "'\(text)': the port must be a number in 1...65535")
            }
            port = value
        }
        return (String(host), port)
    }

    /// APDUs answered so far (over all connections).
    public var apduCount: Int { guarded { answered } }

    /// Whether the card is currently connected to vpcd.
    public var isConnected: Bool { guarded { connected } }

    /// Starts the connection thread (once).
    public func start() {
        let shouldStart = guarded { () -> Bool in
            if started { return false }
            started = true
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in self.run() }
        thread.name = "vpcd-card"
        thread.start()
    }

    /// Stops: closes the socket (the card leaves the reader) and ends the thread. Safe from any thread,
    /// any number of times; returns without waiting (see ``waitUntilFinished()``).
    public func stop() {
        condition.lock()
        stopping = true
        if socketFD >= 0 { shutdown(socketFD, Int32(SHUT_RDWR)) }
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the connection thread has ended (returns at once if it was never started).
    public func waitUntilFinished() {
        condition.lock()
        while started && !finished { condition.wait() }
        condition.unlock()
    }

    // MARK: Thread

    private enum SessionEnd { case peerClosed, removed, stopped }

    private func run() {
        defer {
            onEvent(.finished)
            guarded {
                finished = true
                condition.broadcast()
            }
        }
        let addresses: [Address]
        do {
            addresses = try resolve()
        } catch {
            onEvent(.failed(error))
            return
        }
        let begin = Date()
        var everConnected = false
        while !isStopping {
            guard let fd = connectAny(addresses) else {
                if !everConnected, let timeout = options.connectTimeout, Date().timeIntervalSince(begin) >= timeout {
                    onEvent(.failed(VirtualTokenError(
                        .connectionFailed,
                        "vpcd at \(describeAddress) did not accept a connection within \(timeout) seconds")))
                    return
                }
                pause(options.retryInterval)
                continue
            }
            let adopted = guarded { () -> Bool in
                if stopping { return false }
                socketFD = fd
                connected = true
                return true
            }
            guard adopted else {
                close(fd)
                return
            }
            everConnected = true
            onEvent(.connected(host: options.host, port: options.port))
            let end = serve(fd)
            guarded {
                socketFD = -1
                connected = false
            }
            close(fd)
            card.powerCycle()
            switch end {
            case .removed:
                guarded { stopping = true }
                onEvent(.removed(afterAPDUs: apduCount))
                return
            case .stopped:
                return
            case .peerClosed:
                if isStopping { return }
                onEvent(.disconnected)
                guard options.reconnect else { return }
                pause(options.retryInterval)
            }
        }
    }

    /// Answers vpcd's messages until the socket closes, the card is removed, or ``stop()``.
    private func serve(_ fd: Int32) -> SessionEnd {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, Int32(Self.silenceWarning * 1000)) == 0 { onEvent(.silent) }
        while true {
            if let limit = options.removeAfter, apduCount >= limit { return .removed }
            guard let header = readExactly(fd, 2) else { return isStopping ? .stopped : .peerClosed }
            let length = Int(header[0]) << 8 | Int(header[1])
            guard let message = readExactly(fd, length) else { return isStopping ? .stopped : .peerClosed }
            switch message.count {
            case 0:
                continue
            case 1:
                switch message[0] {
                case 0x00, 0x01, 0x02:
                    // Power off, power on, reset: no reply.
                    card.powerCycle()
                case 0x04:
                    guard send(fd, options.atr) else { return isStopping ? .stopped : .peerClosed }
                default:
                    continue
                }
            default:
                let response = card.process(message)
                guarded { answered += 1 }
                guard send(fd, response) else { return isStopping ? .stopped : .peerClosed }
            }
        }
    }

    // MARK: Sockets

    private struct Address {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    private var describeAddress: String {
        options.host.contains(":") ? "[\(options.host)]:\(options.port)" : "\(options.host):\(options.port)"
    }

    private func resolve() throws(VirtualTokenError) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(options.host, String(options.port), &hints, &list)
        guard status == 0, let list else {
            throw VirtualTokenError(
                .invalidAddress, "cannot resolve '\(options.host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var result: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, entry.pointee.ai_addrlen <= MemoryLayout<sockaddr_storage>.size {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))
                }
                result.append(Address(family: entry.pointee.ai_family, storage: storage, length: entry.pointee.ai_addrlen))
            }
            cursor = entry.pointee.ai_next
        }
        guard !result.isEmpty else { throw VirtualTokenError(.invalidAddress, "'\(options.host)' has no address") }
        return result
    }

    private func connectAny(_ addresses: [Address]) -> Int32? {
        for address in addresses {
            if let fd = connect(to: address) { return fd }
        }
        return nil
    }

    /// One connection attempt: non-blocking connect, at most 2 seconds, then back to blocking mode.
    private func connect(to address: Address) -> Int32? {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { posixConnect(fd, $0, address.length) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                close(fd)
                return nil
            }
            // A full backlog drops the SYN and leaves the connect pending: wait in slices so stop() is prompt.
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready = false
            for _ in 0..<20 where !isStopping {
                if poll(&poller, 1, 100) == 1 {
                    ready = true
                    break
                }
            }
            var pending: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard ready, getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &size) == 0, pending == 0 else {
                close(fd)
                return nil
            }
        }
        _ = fcntl(fd, F_SETFL, flags)
        // One small frame per exchange: do not let Nagle's algorithm hold it back.
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
            if n > 0 {
                filled += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return nil
            }
        }
        return buffer
    }

    /// Sends one framed message.
    private func send(_ fd: Int32, _ payload: [UInt8]) -> Bool {
        let body = payload.prefix(0xFFFF)
        let frame = [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        var sent = 0
        while sent < frame.count {
            let n = frame.withUnsafeBytes { posixSend(fd, $0.baseAddress! + sent, frame.count - sent) }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    // MARK: Locking

    private var isStopping: Bool { guarded { stopping } }

    /// Sleeps up to `seconds`, waking early on ``stop()``.
    private func pause(_ seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: max(0.01, seconds))
        condition.lock()
        while !stopping && condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func guarded<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}

// File-level names for the POSIX calls the class shadows with its own methods.
private func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}

private func posixSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    send(fd, bytes, count, Int32(MSG_NOSIGNAL))
}
