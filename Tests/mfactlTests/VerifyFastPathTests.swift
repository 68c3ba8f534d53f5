import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `POST /v1/verify` answered in the connection's pipeline (the server's fast path) against the same
/// request through Hummingbird's router (`?via=router` keeps a request off the fast path): same
/// answers, same order on a pipelined connection, every case that is not ordinary handed on.
@Suite("Verify fast path: same answers as the router, in order on pipelined connections")
struct VerifyFastPathTests {
    typealias Server = ServiceEndToEndTests.Server

    /// A key cache that outlives each test, so a slow host cannot expire the cached key between a
    /// request and the check of which path answered it.
    static let keyCache = ["--api-key-cache", "600"]

    /// One HTTP/1.1 response read off a raw connection.
    struct Reply: Equatable {
        var status: Int
        var headers: [String: String]
        var body: String

        /// Headers without the ones that differ between any two responses.
        var comparable: [String: String] { headers.filter { $0.key != "date" } }
        /// The body without the error's request id (random per answer).
        var comparableBody: String { body.replacing(/"requestId":"[0-9a-f]{16}"/, with: #""requestId":"""#) }
    }

    /// A raw keep-alive TCP connection to the server: requests written as given (pipelined when
    /// several go in one write), responses read back one by one.
    final class Connection {
        let fd: Int32
        var buffer: [UInt8] = []

        init(_ url: String) throws {
            let port = try #require(url.split(separator: ":").last.flatMap { UInt16($0) })
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(connected == 0, "connect: \(errno)")
        }

        deinit { close(fd) }

        func send(_ text: String) throws {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                try #require(sent > 0, "send: \(errno)")
                bytes = bytes.dropFirst(sent)
            }
        }

        private func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = recv(fd, &chunk, chunk.count, 0)
            try #require(count > 0, "connection closed or timed out (\(errno)) with \(buffer.count) bytes unread")
            buffer += chunk[..<count]
        }

        /// Sends what it can of `text`; false (and no recorded issue) once the server has closed.
        func trySend(_ text: String) -> Bool {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                bytes = bytes.dropFirst(sent)
            }
            return true
        }

        /// Whether the server closed the connection (end of stream) with nothing more unread; false
        /// when bytes arrive instead, or none within the 20 s receive timeout.
        func closedByPeer() -> Bool {
            guard buffer.isEmpty else { return false }
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, 0) == 0
        }

        /// Whether the server has closed the connection already (end of stream, or a reset), without
        /// waiting: a check between the sends of a slow client.
        func peerHasClosed() -> Bool {
            var byte: UInt8 = 0
            let got = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        func reply() throws -> Reply {
            let separator = Array("\r\n\r\n".utf8)
            var end: Int?
            while end == nil {
                end = buffer.count < 4 ? nil : (0...(buffer.count - 4)).first { Array(buffer[$0..<($0 + 4)]) == separator }
                if end == nil { try fill() }
            }
            let head = String(decoding: buffer[..<end!], as: UTF8.self).components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < end! + 4 + length { try fill() }
            let body = String(decoding: buffer[(end! + 4)..<(end! + 4 + length)], as: UTF8.self)
            buffer.removeFirst(end! + 4 + length)
            let status = Int(head[0].split(separator: " ")[1]) ?? 0
            return Reply(status: status, headers: headers, body: body)
        }
    }

    static func post(_ path: String, token: String?, body: String, extraHeaders: [String] = []) -> String {
        var lines = ["POST \(path) HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
        if let token { lines.append("Authorization: Bearer \(token)") }
        return (lines + extraHeaders).joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    static func get(_ path: String) -> String { "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" }

    static func verifyBody(_ user: String, _ code: String) -> String { #"{"user":"\#(user)","code":"\#(code)"}"# }

    /// The counter of answers the fast path gave.
    /// Whether the servers of this run take the fast path: the test command runs the server suites a
    /// second time with `MFA_NO_FAST_PATH=1` (`serve --no-fast-path`), when none of them may.
    static var fastPathOn: Bool { (ProcessInfo.processInfo.environment["MFA_NO_FAST_PATH"] ?? "").isEmpty }

    /// Verifies the fast path answers in this run: `count` with it on, none with it off.
    static func fastPathAnswers(_ count: Int) -> Int { fastPathOn ? count : 0 }

    static func fastPathCount(_ server: Server) async throws -> Int {
        let metrics = try await TestTools.run("curl", ["-s", "-m", "10", "-H", "Authorization: Bearer \(server.token)", server.url + "/metrics"]).stdout
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("mfa_http_fast_path_total ") }
        return Int(line?.split(separator: " ").last ?? "") ?? -1
    }

    /// A user with an enabled virtual device; returns its secret, serial and the time its enabling
    /// codes were computed for. Later codes are taken relative to that time, not to the clock: if the
    /// enable reached the server one TOTP step later, the device's drift is −1 step and a code for
    /// "now + 60 s" could fall outside the window.
    static func enroll(_ user: String, on server: Server) async throws -> (secret: String, serial: String, enabledAt: Int64) {
        let created = try await server.json(["mfa", "create-virtual", "--user", user])
        let serial = try #require(created["serial"] as? String)
        let secret = try #require(created["secret"] as? String)
        let t0 = ServiceEndToEndTests.now
        let enabled = try await server.mfactl(["mfa", "enable", "--user", user, "--serial", serial,
                                         "--code1", ServiceEndToEndTests.oathtool(secret, at: t0 - 30), "--code2", ServiceEndToEndTests.oathtool(secret, at: t0)])
        try #require(enabled.status == 0, "\(enabled.stderr)")
        return (secret, serial, t0)
    }

    /// A server (`--totp-window window`) with `user` enrolled, and a connection whose first verify has
    /// gone through the router and filled the key cache the fast path reads.
    static func warmedUp(enrolling user: String, window: Int) async throws -> (server: Server, device: (secret: String, serial: String, enabledAt: Int64), connection: Connection) {
        let server = try await Server(.sqlite, extra: ["--totp-window", String(window)] + keyCache)
        let device = try await enroll(user, on: server)
        let connection = try Connection(server.url)
        try connection.send(post("/v1/verify", token: server.token, body: verifyBody("nobody", "000000")))
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        return (server, device, connection)
    }

    @Test("pipelined requests of both paths are answered in order, each code still accepted once")
    func pipelinedOrder() async throws {
        let server = try await Server(.sqlite, extra: ["--totp-window", "2"] + Self.keyCache)
        let alice = try await Self.enroll("alice", on: server)
        let code = try await ServiceEndToEndTests.oathtool(alice.secret, at: alice.enabledAt + 30)
        let token = server.token
        let connection = try Connection(server.url)
        // The first verify authenticates through the router and fills the key cache the fast path reads.
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("nobody", "000000")))
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        let before = try await Self.fastPathCount(server)

        let chunked = ["POST /v1/verify HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer \(token)", "Transfer-Encoding: chunked"].joined(separator: "\r\n")
            + "\r\n\r\n" + "10\r\n{\"user\":\"alice\",\r\n" + "d\r\n\"code\":\"99999\r\n" + "3\r\n9\"}\r\n" + "0\r\n\r\n"
        try connection.send([
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", "000000")),  // fast: rejected
            Self.get("/healthz"),  // router
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", code)),  // fast: accepted
            Self.post("/v1/verify", token: token, body: #"{"user":"alice","code":"\#(code)","note":1}"#),  // router: the replay, rejected
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", code)),  // fast: replay, rejected
            Self.get("/v1/nowhere"),  // router: 404
            Self.post("/v1/verify", token: nil, body: Self.verifyBody("alice", code)),  // router: 401
            Self.post("/v1/verify", token: token, body: "not json"),  // router: 400
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", "111111")),  // fast: rejected
        ].joined())
        let replies = try (0..<9).map { _ in try connection.reply() }
        #expect(replies.map(\.status) == [200, 200, 200, 200, 200, 404, 401, 400, 200], "\(replies)")
        #expect(replies[0].body == #"{"result":"rejected"}"#)
        #expect(replies[1].body.contains("\"ok\""), "\(replies[1])")
        #expect(replies[2].body == #"{"result":"accepted","serial":"\#(alice.serial)"}"#)
        #expect(replies[3].body == #"{"result":"rejected"}"# && replies[4].body == #"{"result":"rejected"}"#)
        #expect(replies[6].body.contains("unauthenticated") && replies[7].body.contains("invalid-body"))
        #expect(replies[8].body == #"{"result":"rejected"}"#)
        // The first went the fast way; the rest arrived while a request was with the router, so they
        // followed it there (the fast path never overtakes the router).
        let mixed = try await Self.fastPathCount(server)
        #expect(mixed >= before + 1 && mixed <= before + 5, "\(before) → \(mixed)")

        // Verifies alone, pipelined: all answered the fast way, in order.
        let later = try await ServiceEndToEndTests.oathtool(alice.secret, at: alice.enabledAt + 60)
        try connection.send([
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", "222222")),
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", later)),
            Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", later)),
        ].joined())
        let bodies = try (0..<3).map { _ in try connection.reply().body }
        #expect(bodies == [#"{"result":"rejected"}"#, #"{"result":"accepted","serial":"\#(alice.serial)"}"#, #"{"result":"rejected"}"#])
        await #expect(try Self.fastPathCount(server) == mixed + 3)
        // The connection is still usable afterwards.
        try connection.send(Self.get("/healthz"))
        #expect(try connection.reply().status == 200)

        // A chunked body is for NIO's decoder: the router answers it, and the rest of that connection.
        let chunkedConnection = try Connection(server.url)
        try chunkedConnection.send([chunked, Self.post("/v1/verify", token: token, body: Self.verifyBody("alice", "333333"))].joined())
        #expect(try chunkedConnection.reply().body == #"{"result":"rejected"}"#)
        #expect(try chunkedConnection.reply().body == #"{"result":"rejected"}"#)
        await #expect(try Self.fastPathCount(server) == mixed + 3)
    }

    @Test("requests arriving a byte at a time: the same answers, the verifies still answered the fast way")
    func splitRequests() async throws {
        let (server, carol, connection) = try await Self.warmedUp(enrolling: "carol", window: 2)
        let token = server.token
        let before = try await Self.fastPathCount(server)
        let code = try await ServiceEndToEndTests.oathtool(carol.secret, at: carol.enabledAt + 30)
        let requests = [
            Self.post("/v1/verify", token: token, body: Self.verifyBody("carol", "000000")),
            Self.get("/healthz"),
            Self.post("/v1/verify", token: token, body: Self.verifyBody("carol", code)),
            Self.post("/v1/verify", token: token, body: Self.verifyBody("carol", code)),
        ]
        // Each request a byte at a time, its answer read before the next (so none is pipelined).
        let replies = try requests.map { request in
            for byte in request.utf8 { try connection.send(String(decoding: [byte], as: UTF8.self)) }
            return try connection.reply()
        }
        #expect(replies.map(\.status) == [200, 200, 200, 200], "\(replies)")
        #expect(replies.map(\.body) == [#"{"result":"rejected"}"#, replies[1].body, #"{"result":"accepted","serial":"\#(carol.serial)"}"#, #"{"result":"rejected"}"#])
        #expect(replies[1].body.contains("\"ok\""))
        let after = try await Self.fastPathCount(server)
        #expect(after == before + 3, "the three verifies should have been answered the fast way: \(before) → \(after)")
    }

    @Test("the fast path and the router give the same status, headers and body, case by case")
    func sameAnswers() async throws {
        let (server, bob, connection) = try await Self.warmedUp(enrolling: "bob", window: 3)
        let token = server.token

        var cases: [(name: String, body: String, headers: [String])] = [
            ("unknown user", Self.verifyBody("nobody", "123456"), []),
            ("malformed user", Self.verifyBody("", "123456"), []),
            // Not in NFC (issue 16): refused by name, the same on both paths.
            ("NFD user", Self.verifyBody("jose\u{301}", "123456"), []),
            ("NFC user", Self.verifyBody("jos\u{E9}", "123456"), []),
            ("wrong code", Self.verifyBody("bob", "000000"), []),
            ("malformed code", Self.verifyBody("bob", "12x"), []),
            ("bad idempotency key", Self.verifyBody("bob", "000000"), ["Idempotency-Key: has space"]),
            ("keep-alive", Self.verifyBody("bob", "000001"), ["Connection: keep-alive"]),
        ]
        // Each path gets a code of its own, accepted once; then each path replays it.
        for (i, offset) in [30, 60].enumerated() {
            let code = try await ServiceEndToEndTests.oathtool(bob.secret, at: bob.enabledAt + Int64(offset))
            cases.append(("valid code \(i)", Self.verifyBody("bob", code), []))
        }
        for (name, body, headers) in cases {
            let fastBefore = try await Self.fastPathCount(server)
            try connection.send(Self.post("/v1/verify", token: token, body: body, extraHeaders: headers))
            let fast = try connection.reply()
            await #expect(try Self.fastPathCount(server) == fastBefore + 1, "\(name): not answered by the fast path: \(fast)")
            try connection.send(Self.post("/v1/verify?via=router", token: token, body: body, extraHeaders: headers))
            let routed = try connection.reply()
            await #expect(try Self.fastPathCount(server) == fastBefore + 1, "\(name): the router's request went the fast way")
            if name.hasPrefix("valid code") {
                // The first answer accepted the code, so the second is a replay: compare the replays.
                #expect(fast.body.contains("accepted") && routed.body == #"{"result":"rejected"}"#, "\(name): \(fast) \(routed)")
                try connection.send(Self.post("/v1/verify", token: token, body: body))
                let replay = try connection.reply()
                #expect(replay == Reply(status: routed.status, headers: replay.headers, body: routed.body) && replay.comparable == routed.comparable, "\(name)")
            } else {
                #expect(fast.status == routed.status && fast.comparableBody == routed.comparableBody && fast.comparable == routed.comparable, "\(name): \(fast) ≠ \(routed)")
            }
            if name.hasPrefix("NFD") || name == "malformed user" {
                #expect(fast.status == 400 && fast.body.contains(#""code":"invalid-input""#), "\(name): \(fast)")
            }
            if name.hasPrefix("NFD") { #expect(fast.body.contains("NFC"), "\(name): \(fast)") }
            if name == "NFC user" { #expect(fast.status == 200 && fast.body == #"{"result":"rejected"}"#, "\(name): \(fast)") }
        }
        // A JSON escape leaves the fast path's reader (the router decodes it): the same refusal.
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody(#"jose\u0301"#, "123456")))
        let escaped = try connection.reply()
        #expect(escaped.status == 400 && escaped.body.contains(#""code":"invalid-input""#) && escaped.body.contains("NFC"), "\(escaped)")
        // An idempotent retry gets the first verdict on either path.
        let code = try await ServiceEndToEndTests.oathtool(bob.secret, at: bob.enabledAt + 90)
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("bob", code), extraHeaders: ["Idempotency-Key: retry-1"]))
        let first = try connection.reply()
        try connection.send(Self.post("/v1/verify?via=router", token: token, body: Self.verifyBody("bob", code), extraHeaders: ["Idempotency-Key: retry-1"]))
        let retried = try connection.reply()
        #expect(first.body.contains("accepted") && retried.body == first.body && retried.comparable == first.comparable, "\(first) \(retried)")
    }

    @Test("serve --event-loops 1: one thread serves the fast path and the router; 0 is refused")
    func oneEventLoop() async throws {
        let server = try await Server(.sqlite, extra: ["--event-loops", "1"] + Self.keyCache)
        let connection = try Connection(server.url)
        try connection.send(Self.post("/v1/verify", token: server.token, body: Self.verifyBody("nobody", "000000")))
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        let before = try await Self.fastPathCount(server)
        try connection.send(Self.post("/v1/verify", token: server.token, body: Self.verifyBody("nobody", "000000")))
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        await #expect(try Self.fastPathCount(server) == before + 1)
        // The connections' threads: one of the server's own group, none of NIO's shared one.
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.process.process.processIdentifier)/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/\(server.process.process.processIdentifier)/task/\($0)/comm", encoding: .utf8) }
        #expect(names.filter { $0.hasPrefix("NIO-ELT") }.count == 1 && !names.contains { $0.hasPrefix("NIO-SGLTN") }, "\(names)")
        let refused = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--event-loops", "0", "--listen", "127.0.0.1:0", "--db", server.db, "--key-file", server.keyFile])
        #expect(refused.status != 0 && refused.stderr.contains("--event-loops"), "\(refused.stderr)")
    }

    @Test("what is not ordinary goes to the router: large body, Expect, Connection: close, HTTP/1.0, two keys, other scopes, unknown keys")
    func handedOn() async throws {
        let server = try await Server(.sqlite, extra: Self.keyCache)
        let keyFile = server.keyFile
        let create = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "create", "--name", "tech", "--scope", "technician", "--db", server.db, "--key-file", keyFile, "--json"])
        let technician = try #require((try JSONSerialization.jsonObject(with: Data(create.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let token = server.token
        let connection = try Connection(server.url)
        for key in [token, technician] {
            try connection.send(Self.post("/v1/verify", token: key, body: Self.verifyBody("nobody", "000000")))
            _ = try connection.reply()
        }
        let before = try await Self.fastPathCount(server)
        let padded = #"{"user":"nobody","code":"123456"}"# + String(repeating: " ", count: 70_000)
        try connection.send(Self.post("/v1/verify", token: token, body: padded))
        let large = try connection.reply()
        try connection.send(Self.post("/v1/verify?via=router", token: token, body: padded))
        let routedLarge = try connection.reply()
        #expect(large.status == routedLarge.status && large.comparableBody == routedLarge.comparableBody && large.comparable == routedLarge.comparable, "\(large) \(routedLarge)")
        try connection.send(Self.post("/v1/verify", token: technician, body: Self.verifyBody("nobody", "000000")))
        let forbidden = try connection.reply()
        #expect(forbidden.status == 403 && forbidden.body.contains("forbidden"), "\(forbidden)")
        try connection.send(Self.post("/v1/verify", token: "mfa_000000000000_nosuchsecret", body: Self.verifyBody("nobody", "000000")))
        #expect(try connection.reply().status == 401)
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("nobody", "000000"), extraHeaders: ["Expect: 100-continue"]))
        var expect = try connection.reply()
        if expect.status == 100 { expect = try connection.reply() }
        #expect(expect.body == #"{"result":"rejected"}"#, "\(expect)")
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("nobody", "000000"), extraHeaders: ["Authorization: Bearer \(token)"]))
        let twoKeys = try connection.reply()
        #expect(twoKeys.status == 401, "two Authorization headers: \(twoKeys)")
        let http10 = try Connection(server.url)
        try http10.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("nobody", "000000")).replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0"))
        #expect(try http10.reply().body == #"{"result":"rejected"}"#)
        await #expect(try Self.fastPathCount(server) == before, "none of these should have taken the fast path")
        // Header names in any case are still ordinary.
        let shouted = ["POST /v1/verify HTTP/1.1", "HOST: 127.0.0.1", "AUTHORIZATION: Bearer \(token)", "content-LENGTH: \(Self.verifyBody("nobody", "000000").utf8.count)"].joined(separator: "\r\n")
            + "\r\n\r\n" + Self.verifyBody("nobody", "000000")
        try connection.send(shouted)
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        await #expect(try Self.fastPathCount(server) == before + 1)
        try connection.send(Self.post("/v1/verify", token: token, body: Self.verifyBody("nobody", "000000"), extraHeaders: ["Connection: close"]))
        #expect(try connection.reply().body == #"{"result":"rejected"}"#)
        await #expect(try Self.fastPathCount(server) == before + 1)
    }
}
