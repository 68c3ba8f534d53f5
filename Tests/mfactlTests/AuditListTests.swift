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
        #expect(try await store.mfactl(["mfa", "create-virtual", "--user", "bob"]).status == 0)
        let text = try await store.mfactl(["audit", "list"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["SEQ", "TIME", "ACTOR", "ACTION", "USER", "SERIAL", "RESULT", "DETAIL"], "\(lines)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await store.mfactl(["audit", "list", "--json"]).stdout.utf8)) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(lines.count == entries.count + 1)
        // Newest first by default.
        let sequences = entries.compactMap { $0["sequence"] as? Int }
        #expect(sequences.count == entries.count && sequences == sequences.sorted(by: >) && sequences.count >= 2, "\(sequences)")
        for (line, entry) in zip(lines.dropFirst(), entries) {
            let time = try #require(entry["time"] as? Int)
            let iso = try await TestTools.run("date", ["-u", "-d", "@\(time)", "+%Y-%m-%dT%H:%M:%SZ"]).stdout.trimmingCharacters(in: .newlines)
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.count >= 7 && cells[0] == "\(entry["sequence"] as? Int ?? -1)" && cells[1] == iso && cells[3] == entry["action"] as? String, "\(line) \(entry)")
            #expect(entry["timestamp"] as? String == iso, "\(entry)")
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

    /// The sequence numbers `audit list` printed as JSON.
    static func sequences(_ r: ProcessResult) throws -> [Int] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout) \(r.stderr)")
        return try #require(json["entries"] as? [[String: Any]]).compactMap { $0["sequence"] as? Int }
    }

    /// The same listing and filters locally and over --server, with names that need percent-encoding.
    static func filters(_ run: ([String]) async throws -> ProcessResult) async throws {
        for user in ["alice smith", "用户", "a+b&c=d", "Alice"] {
            let r = try await run(["mfa", "create-virtual", "--user", user])
            #expect(r.status == 0, "\(user) \(r.stderr)")
        }
        let all = try sequences(try await run(["audit", "list", "--order", "oldest", "--json"]))
        #expect(all.count >= 4 && all == all.sorted(), "\(all)")
        #expect(try sequences(try await run(["audit", "list", "--tail", "2", "--json"])) == Array(all.suffix(2)))
        #expect(try sequences(try await run(["audit", "list", "--limit", "2", "--json"])) == Array(all.suffix(2).reversed()))
        #expect(try sequences(try await run(["audit", "list", "--after", "\(all[all.count - 3])", "--json"])) == Array(all.suffix(2)))
        #expect(try sequences(try await run(["audit", "list", "--before", "\(all[1])", "--json"])) == [all[0]])
        for user in ["alice smith", "用户", "a+b&c=d", "Alice"] {
            let r = try await run(["audit", "list", "--user", user, "--json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
            let users = try #require(json["entries"] as? [[String: Any]]).map { $0["user"] as? String }
            #expect(users == [user], "\(user): \(users)")
        }
        #expect(try sequences(try await run(["audit", "list", "--user", "alice", "--json"])).isEmpty)
        let created = try sequences(try await run(["audit", "list", "--action", "device", "--json"]))
        #expect(created.count == 4, "\(created)")
        #expect(try sequences(try await run(["audit", "list", "--action", "device.create", "--since", "1h", "--json"])) == created)
        #expect(try sequences(try await run(["audit", "list", "--since", "2099-01-01", "--json"])).isEmpty)
        let none = try await run(["audit", "list", "--user", "nobody"])
        #expect(none.status == 0 && none.stdout == "no audit entries matching the filters\n", "\(none.stdout)")
        for bad in [["--since", "yesterday"], ["--tail", "0"], ["--tail", "3", "--limit", "2"], ["--order", "sideways"], ["--limit", "5000"], ["--user", ""]] {
            let r = try await run(["audit", "list"] + bad)
            #expect(r.status == 2 && !r.stderr.isEmpty && r.stdout.isEmpty, "\(bad) \(r.status) \(r.stderr)")
        }
    }

    @Test("audit list filters, order, --tail, --after/--before on the local store")
    func localFilters() async throws {
        let store = try LocalStore("mfa-audit-filters")
        try await Self.filters { try await store.mfactl($0) }
    }

    @Test("audit list filters over --server: names with spaces, CJK, + & = and case reach the server intact")
    func remoteFilters() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        try await Self.filters { try await server.mfactl($0) }
    }
}
