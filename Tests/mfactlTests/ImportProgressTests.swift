import Foundation
import OTP
import TestSupport
import Testing

/// Issue 17: remote imports show progress. The API answers `Accept: application/x-ndjson` with a line
/// per step and the report last; `mfactl tokens import --server` draws the bar a local import draws.
@Suite("Import progress: the API's line-per-step answer and the CLI's bar, remote and local")
struct ImportProgressTests {
    typealias Server = ServiceEndToEndTests.Server

    static func csv(_ count: Int, prefix: String, in directory: URL, badRow: Bool = false) throws -> String {
        var rows = (1...count).map { "\(prefix)-\($0),\(Hex.encode(LibCrypto.randomBytes(20))),totp,6,30" }
        if badRow { rows.append("\(prefix)-bad,not-hex,totp,6,30") }
        let path = directory.appendingPathComponent("\(prefix).csv").path
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `POST /v1/tokens/import` with curl asking for lines; the body goes through a file (it is large).
    static func streamed(_ server: Server, _ csv: String, accept: String = "application/x-ndjson") async throws -> (status: Int, type: String, lines: [[String: Any]]) {
        let body = server.directory.appendingPathComponent("body-\(UUID().uuidString).json").path
        let file = try Data(contentsOf: URL(fileURLWithPath: csv)).base64EncodedString()
        try JSONSerialization.data(withJSONObject: ["file": file]).write(to: URL(fileURLWithPath: body))
        let result = try await TestTools.run("curl", ["-s", "-N", "-X", "POST", server.url + "/v1/tokens/import", "-H", "Authorization: Bearer \(server.token)",
                                                      "-H", "Content-Type: application/json", "-H", "Accept: \(accept)", "--data-binary", "@" + body,
                                                      "-w", "\n%{http_code} %{content_type}"])
        var lines = result.stdout.split(separator: "\n").map(String.init)
        let trailer = lines.removeLast().split(separator: " ", maxSplits: 1).map(String.init)
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "a line that is not JSON: \(result.stdout.prefix(2_000))")
        return (Int(trailer.first ?? "") ?? 0, trailer.count > 1 ? trailer[1] : "", objects)
    }

    @Test("the API: each phase in order while the import runs, the report and its status last; a bad body still gets its 400")
    func apiLines() async throws {
        let server = try await Server(.sqlite)
        let csv = try Self.csv(3_000, prefix: "STREAM", in: server.directory)
        let (status, type, lines) = try await Self.streamed(server, csv)
        #expect(status == 200 && type.hasPrefix("application/x-ndjson"), "\(status) \(type)")
        let phases = lines.dropLast().compactMap { ($0["progress"] as? [String: Any])?["phase"] as? String }
        #expect(phases.count == lines.count - 1, "only progress before the last line")
        var seen: [String] = []
        for phase in phases where seen.last != phase { seen.append(phase) }
        #expect(seen == ["reading", "checking", "sealing", "storing", "done"], "\(phases)")
        let last = try #require(lines.last)
        let report = try #require(last["report"] as? [String: Any], "\(last)")
        #expect(last["status"] as? Int == 200 && report["imported"] as? Int == 3_000 && report["committed"] as? Bool == true, "\(last)")
        let final = try #require((lines.dropLast().last?["progress"] as? [String: Any]))
        #expect(final["phase"] as? String == "done" && final["done"] as? Int == 3_000 && final["total"] as? Int == 3_000, "\(final)")

        // A file with a rejected key stores nothing: the last line says 422, as the plain answer's status would.
        let rejected = try Self.csv(10, prefix: "HALF", in: server.directory, badRow: true)
        let refused = try await Self.streamed(server, rejected)
        let verdict = try #require(refused.lines.last)
        #expect(refused.status == 200 && verdict["status"] as? Int == 422 && (verdict["report"] as? [String: Any])?["committed"] as? Bool == false, "\(verdict)")
        let (listStatus, listed) = try await server.request("GET", "/v1/devices?assignment=any", token: server.token)
        let serials = (listed["devices"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        #expect(listStatus == 200 && serials.contains("STREAM-1") && !serials.contains { $0.hasPrefix("HALF-") }, "nothing of the rejected file was stored")

        // Without the line type the answer is the one JSON report, as before.
        let plain = try await Self.streamed(server, try Self.csv(5, prefix: "PLAIN", in: server.directory), accept: "application/json")
        #expect(plain.status == 200 && plain.type.hasPrefix("application/json") && plain.lines.count == 1 && plain.lines[0]["imported"] as? Int == 5, "\(plain)")

        // Refused before the import begins: a status code and the error body, not a stream.
        let bad = try await TestTools.run("curl", ["-s", "-X", "POST", server.url + "/v1/tokens/import", "-H", "Authorization: Bearer \(server.token)",
                                                   "-H", "Accept: application/x-ndjson", "-d", #"{"file":"!!"}"#, "-w", "\n%{http_code}"])
        #expect(bad.stdout.hasSuffix("\n400") && bad.stdout.contains(#""code":"invalid-body""#), "\(bad.stdout)")
    }

    @Test("the CLI on a terminal: the same bar, from reading to done, for a remote import and a local one")
    func terminalBar() async throws {
        let server = try await Server(.sqlite)
        let remote = try Self.csv(3_000, prefix: "BAR", in: server.directory)
        // `script` gives mfactl a terminal, so it draws the bar as it does for an admin.
        let command = "\(TestTools.product("mfactl")) tokens import \(remote)"
        let drawn = try await TestTools.run("script", ["-qec", command, "/dev/null"], environment: ["MFACTL_SERVER": server.url, "MFACTL_API_KEY": server.token], timeout: 120)
        #expect(drawn.status == 0, "\(drawn.stdout)")
        #expect(drawn.stdout.contains("reading 1000 keys") && drawn.stdout.contains("done [##############################] 3000/3000"), "\(drawn.stdout.debugDescription)")
        #expect(drawn.stdout.contains("3000 keys: 3000 imported, 0 skipped, 0 rejected"), "\(drawn.stdout)")

        let local = try Self.csv(3_000, prefix: "LOCALBAR", in: server.directory)
        let localCommand = "\(TestTools.product("mfactl")) tokens import \(local) --db \(server.db) --key-file \(server.keyFile)"
        let localDrawn = try await TestTools.run("script", ["-qec", localCommand, "/dev/null"], timeout: 120)
        #expect(localDrawn.status == 0 && localDrawn.stdout.contains("done [##############################] 3000/3000"), "\(localDrawn.stdout.debugDescription)")
        // No terminal, no bar: the output a script reads is the report only.
        let piped = try await server.mfactl(["tokens", "import", remote])
        #expect(piped.status == 0 && !piped.stderr.contains("reading") && !piped.stdout.contains("\u{1B}["), "\(piped.stderr)")
    }
}
