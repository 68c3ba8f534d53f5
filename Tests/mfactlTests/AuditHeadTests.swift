import Foundation
import TestSupport
import Testing

/// `mfactl audit verify` prints the chain's head, and `--expect-head` catches what verifying the
/// store alone cannot: the whole database (log and signed checkpoint together) put back to an older copy.
@Suite("Audit head: recorded outside the store, checked later with --expect-head")
struct AuditHeadTests {
    static func head(_ result: ProcessResult) throws -> String {
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("audit chain intact") }, "\(result.stdout) \(result.stderr)")
        return String(try #require(line.components(separatedBy: ", head ").last))
    }

    @Test("locally: the head is the newest entry; an older copy of the store verifies alone but fails --expect-head")
    func rollback() async throws {
        let store = try LocalStore("mfa-audit-head")
        #expect(try await store.mfactl(["mfa", "create-virtual", "--user", "alice"]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: store.directory.path).filter { $0.hasPrefix("mfa.sqlite") }
        let old = store.directory.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: false)
        for name in files {
            try FileManager.default.copyItem(at: store.directory.appendingPathComponent(name), to: old.appendingPathComponent(name))
        }
        #expect(try await store.mfactl(["mfa", "create-virtual", "--user", "bob"]).status == 0)

        var r = try await store.mfactl(["audit", "verify"])
        #expect(r.status == 0, "\(r.stderr)")
        let head = try Self.head(r)
        // The head names the newest entry as `audit list` shows it.
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(try await store.mfactl(["audit", "list", "--json"]).stdout.utf8)) as? [String: Any])
        let newest = try #require((listed["entries"] as? [[String: Any]])?.max { ($0["sequence"] as? Int ?? 0) < ($1["sequence"] as? Int ?? 0) })
        #expect(head == "\(newest["sequence"] as? Int ?? -1):\(newest["hash"] as? String ?? "")", "\(head) \(newest)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await store.mfactl(["audit", "verify", "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["head"] as? String == head && json["ok"] as? Bool == true, "\(json)")

        r = try await store.mfactl(["audit", "verify", "--expect-head", head])
        #expect(r.status == 0 && r.stdout.contains("still in the log, unchanged"), "\(r.stdout) \(r.stderr)")
        r = try await store.mfactl(["audit", "verify", "--expect-head", head.uppercased()])
        #expect(r.status == 0, "hex digits in either case: \(r.stderr)")

        // Put the older copy back: log and checkpoint agree, so the chain alone looks intact.
        for name in try FileManager.default.contentsOfDirectory(atPath: store.directory.path) where name.hasPrefix("mfa.sqlite") {
            try FileManager.default.removeItem(at: store.directory.appendingPathComponent(name))
        }
        for name in files {
            try FileManager.default.copyItem(at: old.appendingPathComponent(name), to: store.directory.appendingPathComponent(name))
        }
        r = try await store.mfactl(["audit", "verify"])
        #expect(r.status == 0, "the older copy is a valid chain of its own: \(r.stdout) \(r.stderr)")
        let olderHead = try Self.head(r)
        #expect(olderHead != head)
        r = try await store.mfactl(["audit", "verify", "--expect-head", head])
        #expect(r.status == 1 && r.stdout.contains("BROKEN") && r.stdout.contains("no longer in the log"), "\(r.status) \(r.stdout) \(r.stderr)")
        let broken = try #require(try JSONSerialization.jsonObject(with: Data(try await store.mfactl(["audit", "verify", "--expect-head", head, "--json"]).stdout.utf8)) as? [String: Any])
        #expect(broken["ok"] as? Bool == false && broken["brokenAt"] as? Int == Int(head.split(separator: ":")[0]), "\(broken)")
    }

    @Test("over --server: a matching head passes, another hash or a malformed head is refused")
    func remote() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        #expect(try await server.mfactl(["mfa", "create-virtual", "--user", "carol"]).status == 0)
        var r = try await server.mfactl(["audit", "verify"])
        let head = try Self.head(r)
        r = try await server.mfactl(["audit", "verify", "--expect-head", head])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        // The same sequence with another hash: rewritten.
        let parts = head.split(separator: ":").map(String.init)
        let other = parts[0] + ":" + String(repeating: parts[1].hasPrefix("0") ? "1" : "0", count: 64)
        r = try await server.mfactl(["audit", "verify", "--expect-head", other])
        #expect(r.status == 1 && r.stdout.contains("no longer has the recorded hash"), "\(r.status) \(r.stdout) \(r.stderr)")
        for bad in ["12", "x:" + parts[1], "0:" + parts[1], parts[0] + ":abc", parts[0] + ":" + String(repeating: "g", count: 64)] {
            r = try await server.mfactl(["audit", "verify", "--expect-head", bad])
            #expect(r.status == 2 && r.stderr.contains("SEQUENCE:HASH"), "\(bad): \(r.status) \(r.stderr)")
        }
    }
}
