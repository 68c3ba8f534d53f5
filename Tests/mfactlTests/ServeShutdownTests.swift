import Foundation
import TestSupport
import Testing

/// Issue 17: `serve` as systemd runs it: `READY=1` on the notify socket once listening, and on
/// SIGTERM `STOPPING=1`, requests in flight finished (within `--shutdown-timeout`), exit 0.
@Suite("serve: sd_notify readiness, SIGTERM drains in-flight requests within a bound")
struct ServeShutdownTests {
    /// A notify socket (python's, as systemd's stand-in) that prints each datagram as a line.
    static let receiver = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sys.argv[1])
        print("bound", flush=True)
        while True:
            print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
        """
    /// A client that sends a verify's head and half its body, waits, then the rest; prints the status line.
    static let slowClient = """
        import socket, sys, time
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        body = b'{"user":"alice","code":"123456"}'
        c.sendall(b"POST /v1/verify HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % (sys.argv[3].encode(), len(body)) + body[:10])
        print("partial", flush=True)
        time.sleep(float(sys.argv[2]))
        try:
            c.sendall(body[10:])
            print(c.recv(4096).split(b"\\r\\n")[0].decode(), flush=True)
        except OSError as e:
            print("error", e, flush=True)
        """

    struct Running {
        let directory: URL
        let server: BackgroundProcess
        let notify: BackgroundProcess
        let port: Int
        /// The admin key the server printed: the slow request is authenticated, so the server waits for its body.
        let token: String
    }

    static func start(shutdownTimeout: Int) async throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-stop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let socket = directory.appendingPathComponent("notify").path
        let notify = try BackgroundProcess("/usr/bin/python3", ["-c", receiver, socket])
        try #require(await notify.waitForOutput("bound", timeout: 60), "notify receiver: \(notify.stdout) \(notify.stderr)")
        let server = try BackgroundProcess(TestTools.product("mfactl"), [
            "serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path,
            "--key-file", directory.appendingPathComponent("vault.key").path, "--shutdown-timeout", "\(shutdownTimeout)",
        ], environment: ["NOTIFY_SOCKET": socket])
        try #require(await server.waitForOutput("listening on http", timeout: 30), "\(server.stderr)")
        let line = try #require(server.stdout.split(separator: "\n").first { $0.hasPrefix("listening on http://127.0.0.1:") })
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        #expect(await notify.waitForOutput("READY=1|STATUS=listening on http://127.0.0.1:\(port)", timeout: 30), "\(notify.stdout)")
        let token = try #require(server.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("mfa_") }.map(String.init))
        return Running(directory: directory, server: server, notify: notify, port: port, token: token)
    }

    static func waitForExit(_ process: BackgroundProcess, timeout: TimeInterval) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.process.isRunning
    }

    @Test("a request in flight at SIGTERM is answered, then STOPPING=1 and exit 0")
    func drains() async throws {
        let running = try await Self.start(shutdownTimeout: 20)
        defer { running.notify.stop(); try? FileManager.default.removeItem(at: running.directory) }
        let client = try BackgroundProcess("/usr/bin/python3", ["-c", Self.slowClient, "\(running.port)", "3", running.token])
        #expect(await client.waitForOutput("partial", timeout: 60), "\(client.stderr)")
        kill(running.server.process.processIdentifier, SIGTERM)
        #expect(await running.server.waitForOutput("shutting down", timeout: 30), "\(running.server.stdout)")
        #expect(await client.waitForOutput("HTTP/1.1 200", timeout: 30), "the request in flight was not answered: \(client.stdout)")
        #expect(await Self.waitForExit(running.server, timeout: 30))
        #expect(running.server.process.terminationStatus == 0 && running.server.stdout.hasSuffix("stopped\n"), "\(running.server.stdout) \(running.server.stderr)")
        #expect(await running.notify.waitForOutput("STOPPING=1", timeout: 20), "\(running.notify.stdout)")
        // No new connections once it stopped.
        #expect((try? await TestTools.run("curl", ["-s", "-m", "2", "http://127.0.0.1:\(running.port)/healthz"]).status) != 0)
    }

    @Test("a request that never completes is cut off after --shutdown-timeout: the stop never hangs")
    func bounded() async throws {
        let running = try await Self.start(shutdownTimeout: 1)
        defer { running.notify.stop(); try? FileManager.default.removeItem(at: running.directory) }
        let client = try BackgroundProcess("/usr/bin/python3", ["-c", Self.slowClient, "\(running.port)", "60", running.token])
        defer { client.stop(grace: 0) }
        #expect(await client.waitForOutput("partial", timeout: 60), "\(client.stderr)")
        let start = Date()
        kill(running.server.process.processIdentifier, SIGTERM)
        #expect(await Self.waitForExit(running.server, timeout: 40))
        let took = Date().timeIntervalSince(start)
        #expect(took >= 0.9 && took < 30, "stopped after \(took) s")
        #expect(running.server.process.terminationStatus == 0, "\(running.server.stdout) \(running.server.stderr)")
    }
}
