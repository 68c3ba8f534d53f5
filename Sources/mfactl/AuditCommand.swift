import ArgumentParser
import Foundation
import MFA
import MFAServer

/// `mfactl audit list|verify`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The hash-chained audit log.", subcommands: [List.self, Verify.self])
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List audit entries, newest first: a table with ISO 8601 times (UTC), or --json.",
            discussion: """
                Without options: the newest 100 entries, newest first. --tail N: the newest N in the order they \
                happened. --after SEQ reads forward from a sequence number, oldest first (a script following \
                the log passes the last sequence it saw); --before SEQ pages back. Filters combine: --user and \
                --serial match exactly (bytes, no case folding), --action matches an action or its family \
                (device matches device.lock and device.create), --since takes an ISO 8601 time \
                (2026-12-03T18:30:00Z, 2026-12-03), Unix seconds, or a length of time back (24h, 7d).
                """)
        @OptionGroup var backend: BackendOptions
        @Option(help: "Entries after this sequence number, oldest first (unless --order newest).") var after: Int64?
        @Option(help: "Entries before this sequence number (paging back).") var before: Int64?
        @Option(help: "The newest N entries, printed in the order they happened.") var tail: Int?
        @Option(help: "At most this many entries (1 to 1000; default 100).") var limit: Int?
        @Option(help: "newest or oldest first (default newest; oldest with --after).") var order: String?
        @Option(help: "Only entries about this user (exact bytes).") var user: String?
        @Option(help: "Only entries about this device serial (exact bytes).") var serial: String?
        @Option(help: "Only this action or family of actions (verify, device, device.lock, apikey, ...).") var action: String?
        @Option(help: "Only entries at or after this time: ISO 8601, Unix seconds, or a length of time back (24h, 7d).") var since: String?
        @Flag(help: "Print JSON.") var json = false

        func query() throws -> AuditQuery {
            var query = AuditQuery(user: user, serial: serial, action: action)
            if let tail {
                guard limit == nil, order == nil, after == nil else { throw CLIError("--tail cannot be combined with --limit, --order or --after") }
                guard (1...1_000).contains(tail) else { throw CLIError("--tail takes a number from 1 to 1000") }
                query.limit = tail
                query.order = .newestFirst
            } else {
                if let limit {
                    guard (1...1_000).contains(limit) else { throw CLIError("--limit takes a number from 1 to 1000") }
                    query.limit = limit
                }
                if let order {
                    guard let chosen = AuditQuery.Order(rawValue: order) else { throw CLIError("--order must be newest or oldest") }
                    query.order = chosen
                } else {
                    query.order = after == nil ? .newestFirst : .oldestFirst
                }
            }
            if let after {
                guard after >= 0 else { throw CLIError("--after takes a sequence number (0 or more)") }
                query.after = after
            }
            if let before {
                guard before >= 1 else { throw CLIError("--before takes a sequence number (1 or more)") }
                query.before = before
            }
            for (name, value) in [("--user", user), ("--serial", serial), ("--action", action)] where value?.isEmpty == true {
                throw CLIError("\(name) takes a non-empty value")
            }
            if let since {
                guard let time = SecondsText.parseSince(since, now: Int64(Date().timeIntervalSince1970)) else {
                    throw CLIError("--since takes an ISO 8601 time (2026-12-03T18:30:00Z or 2026-12-03), Unix seconds, or a length of time back (24h, 7d)")
                }
                query.since = time
            }
            return query
        }

        func run() async throws {
            try await CLIOutput.run {
                let query = try query()
                var entries = try await backend.backend(readOnly: true).audit(query)
                if tail != nil { entries.reverse() }
                if json { try CLIOutput.printJSON(["entries": entries]); return }
                if entries.isEmpty {
                    let filtered = query.user != nil || query.serial != nil || query.action != nil || query.since != nil || query.before != nil
                    print("no audit entries" + (query.after > 0 ? " after \(query.after)" : "") + (filtered ? " matching the filters" : ""))
                    return
                }
                var table = TextTable("SEQ", "TIME", "ACTOR", "ACTION", "USER", "SERIAL", "RESULT", "DETAIL")
                for e in entries {
                    table.add(String(e.sequence), e.timestamp, e.actor, e.action, e.user ?? "-", e.serial ?? "-", e.result, e.detail)
                }
                table.print()
            }
        }
    }
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the chain and the signed head; exit 1 if broken.",
            discussion: """
                Prints the head (SEQUENCE:HASH of the newest entry): record it outside the database. A writer \
                holding an old log and its signed checkpoint could roll both back together; --expect-head \
                with a recorded head catches that (the entry must still be there with the same hash).
                """)
        @OptionGroup var backend: BackendOptions
        @Option(name: .customLong("expect-head"), help: "A head recorded earlier (SEQUENCE:HASH): exit 1 unless that entry is still in the log unchanged.")
        var expectHead: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var ok = false
            try await CLIOutput.run {
                var expected: (sequence: Int64, hash: String)?
                if let expectHead {
                    let parts = expectHead.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let sequence = Int64(parts[0]), sequence >= 1, parts[1].count == 64,
                          parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
                    else { throw CLIError("--expect-head takes SEQUENCE:HASH as audit verify printed it (the hash in 64 hex digits)") }
                    expected = (sequence, parts[1])
                }
                let backend = try await backend.backend(readOnly: true)
                var check = try await backend.auditVerify()
                if check.ok, let expected {
                    let entry = try await backend.audit(after: expected.sequence - 1, limit: 1).first
                    if entry?.sequence != expected.sequence || entry.map({ !$0.hash.utf8.elementsEqual(expected.hash.utf8) }) ?? true {
                        check.ok = false
                        check.brokenAt = expected.sequence
                        check.reason = entry == nil
                            ? "the recorded head \(expected.sequence) is no longer in the log (rolled back)"
                            : "entry \(expected.sequence) no longer has the recorded hash (log and checkpoint rewritten or rolled back)"
                    }
                }
                ok = check.ok
                if json { try CLIOutput.printJSON(check) } else if check.ok {
                    print("audit chain intact: \(check.entries) entries" + (check.head.map { ", head \($0)" } ?? ""))
                    if expected != nil { print("the recorded head is still in the log, unchanged") }
                } else {
                    print("audit chain BROKEN at \(check.brokenAt.map(String.init) ?? "?"): \(check.reason ?? "")")
                }
            }
            if !ok { throw ExitCode(1) }
        }
    }
}
