import Foundation
import TestSupport
import Testing

/// Admin-supplied numbers at the edges of their types (issue 16, item 3): a clear 400, never an
/// overflow trap that takes the server down.
@Suite("Hostile numbers: Int64.max and friends are refused, the server stays up")
struct HostileNumbersTests {
    typealias Server = ServiceEndToEndTests.Server

    @Test("periods, counters, digits and audit positions at Int64.max over HTTP")
    func extremes() async throws {
        let server = try await Server(.sqlite)
        let max = "9223372036854775807", min = "-9223372036854775808"
        let secret = "3132333435363738393031323334353637383930"
        func code(_ body: [String: Any]) -> String? { (body["error"] as? [String: Any])?["code"] as? String }
        let bodies = [
            #"{"serial":"T-MAX-PERIOD","kind":"hardware-totp","secretHex":"\#(secret)","period":\#(max)}"#,
            #"{"serial":"T-MIN-PERIOD","kind":"hardware-totp","secretHex":"\#(secret)","period":\#(min)}"#,
            #"{"serial":"H-MAX-COUNTER","kind":"hardware-hotp","secretHex":"\#(secret)","counter":\#(max)}"#,
            #"{"serial":"H-BIG-COUNTER","kind":"hardware-hotp","secretHex":"\#(secret)","counter":281474976710657}"#,
            #"{"serial":"H-MAX-DIGITS","kind":"hardware-hotp","secretHex":"\#(secret)","digits":\#(max)}"#,
            #"{"serial":"H-OVER-DIGITS","kind":"hardware-hotp","secretHex":"\#(secret)","digits":9223372036854775808}"#,
        ]
        for body in bodies {
            let (status, answer) = try await server.request("POST", "/v1/devices", token: server.token, body: body)
            #expect(status == 400 && ["invalid-input", "invalid-body"].contains(code(answer) ?? ""), "\(body): \(status) \(answer)")
        }
        // At the edge of the ranges: accepted.
        var (status, answer) = try await server.request("POST", "/v1/devices", token: server.token,
            body: #"{"serial":"H-EDGE","kind":"hardware-hotp","secretHex":"\#(secret)","counter":281474976710656}"#)
        #expect(status == 201, "\(answer)")
        (status, answer) = try await server.request("POST", "/v1/devices/virtual", token: server.token, body: #"{"user":"max","digits":\#(max)}"#)
        #expect(status == 400 && code(answer) == "invalid-input", "\(answer)")
        (status, answer) = try await server.request("GET", "/v1/audit?after=\(max)&limit=1000", token: server.token)
        #expect(status == 200 && (answer["entries"] as? [Any])?.isEmpty == true, "\(answer)")
        (status, answer) = try await server.request("GET", "/v1/audit?limit=\(max)", token: server.token)
        #expect(status == 400, "\(answer)")
        (status, _) = try await server.request("GET", "/healthz", token: nil)
        #expect(status == 200)
    }

    @Test("serve refuses out-of-range windows and thresholds with a message, before listening")
    func serveOptions() async throws {
        for (option, value) in [("--totp-window", "9223372036854775807"), ("--hotp-look-ahead", "9223372036854775807"), ("--lockout-threshold", "-9223372036854775808"), ("--event-loops", "9223372036854775807")] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-num-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let result = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + dir.path + ".sqlite", "--key-file", dir.path + ".key", option, value], timeout: 30)
            #expect(result.status != 0 && result.status < 128 && !result.stderr.isEmpty && !result.stdout.contains("listening"), "\(option) \(value): \(result.status) \(result.stderr)")
        }
    }
}
