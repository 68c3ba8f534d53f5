import Foundation
import TestSupport
import Testing

/// `audit list` and `report credentials` print what an admin reads and a script parses: a header row
/// and ISO 8601 times in text, `--json` on both.
@Suite("audit list and report credentials: header, ISO times, --json")
struct AuditListTests {
    @Test("audit list: a header row, ISO times as date(1) prints them, an empty range said so; report credentials --json is --format json")
    func listing() async throws {
        let store = try LocalStore("mfa-audit-list")
        #expect(try await store.mfactl(["mfa", "create-virtual", "--user", "alice"]).status == 0)
        let text = try await store.mfactl(["audit", "list"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["SEQ", "TIME", "ACTOR", "ACTION", "USER", "SERIAL", "RESULT", "DETAIL"], "\(lines)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await store.mfactl(["audit", "list", "--json"]).stdout.utf8)) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(lines.count == entries.count + 1)
        for (line, entry) in zip(lines.dropFirst(), entries) {
            let time = try #require(entry["time"] as? Int)
            let iso = try await TestTools.run("date", ["-u", "-d", "@\(time)", "+%Y-%m-%dT%H:%M:%SZ"]).stdout.trimmingCharacters(in: .newlines)
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.count >= 7 && cells[0] == "\(entry["sequence"] as? Int ?? -1)" && cells[1] == iso && cells[3] == entry["action"] as? String, "\(line) \(entry)")
        }
        let empty = try await store.mfactl(["audit", "list", "--after", "9999"])
        #expect(empty.status == 0 && empty.stdout == "no audit entries after 9999\n", "\(empty.stdout)")

        let byFlag = try await store.mfactl(["report", "credentials", "--json"])
        let byFormat = try await store.mfactl(["report", "credentials", "--format", "json"])
        #expect(byFlag.status == 0 && byFlag.stdout == byFormat.stdout && byFlag.stdout.contains("alice"), "\(byFlag.stdout)")
        #expect((try? JSONSerialization.jsonObject(with: Data(byFlag.stdout.utf8))) != nil, "\(byFlag.stdout)")
        let bad = try await store.mfactl(["report", "credentials", "--format", "xml"])
        #expect(bad.status == 2 && bad.stderr.contains("--format must be csv or json"), "\(bad.stderr)")
    }
}
