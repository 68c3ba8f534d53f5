import Foundation
import TestSupport
import Testing

/// `mfactl serve` checks what it can before it opens or creates anything: a busy port, an address
/// not of this machine, a name that does not resolve, unreadable TLS files are one clear line, and
/// the data directory stays empty (no store, no vault key, no admin key printed and lost).
@Suite("serve start-up: checked before anything is created")
struct ServeStartupTests {
    static func serve(_ arguments: [String], in directory: URL) async throws -> ProcessResult {
        try await TestTools.run(TestTools.product("mfactl"), ["serve"] + arguments, environment: ["MFA_DATA_DIR": directory.path], timeout: 60)
    }

    @Test("a busy port, a foreign address, an unknown host, missing TLS files: one line, exit 2, nothing created")
    func refusals() async throws {
        let running = try await ServiceEndToEndTests.Server(.sqlite)
        let port = try #require(running.url.split(separator: ":").last.map(String.init))
        let directory = try LocalStore.freshDirectory("mfa-serve-startup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [([String], String)] = [
            (["--listen", "127.0.0.1:\(port)"], "cannot listen on 127.0.0.1:\(port): the address is already in use"),
            (["--listen", "192.0.2.1:8080"], "cannot listen on 192.0.2.1:8080: that address is not one of this machine's"),
            (["--listen", "no-such-host.invalid:8080"], "cannot listen on no-such-host.invalid:8080: the host name does not resolve"),
            (["--listen", "127.0.0.1:0", "--tls-cert", directory.appendingPathComponent("none.pem").path, "--tls-key", directory.appendingPathComponent("none.key").path],
             "cannot load the TLS certificate"),
        ]
        for (arguments, message) in cases {
            let r = try await Self.serve(arguments, in: directory)
            #expect(r.status == 2 && r.stderr.contains("error: " + message), "\(arguments): \(r.status) \(r.stderr)")
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(errors.count == 1, "one line: \(r.stderr)")
            #expect(!r.stdout.contains("first start") && !r.stdout.contains("mfa_"), "no admin key printed: \(r.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "\(arguments) created nothing")
        }
        // Beyond loopback without TLS: a warning first (192.0.2.1 is a documentation address, never bound).
        let foreign = try await Self.serve(["--listen", "192.0.2.1:8080"], in: directory)
        #expect(foreign.stderr.hasPrefix("warning: listening on 192.0.2.1 without TLS"), "\(foreign.stderr)")
        let local = try await Self.serve(["--listen", "127.0.0.1:\(port)"], in: directory)
        #expect(!local.stderr.contains("warning"), "loopback needs no TLS warning: \(local.stderr)")
        // The running server is unharmed.
        let (status, _) = try await running.request("GET", "/healthz", token: nil)
        #expect(status == 200)
    }
}
