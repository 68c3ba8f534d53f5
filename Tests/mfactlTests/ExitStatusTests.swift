import Foundation
import TestSupport
import Testing

/// Issue 17: exit statuses as `mfactl --help` documents them: 64 for usage errors (argument-parser's,
/// with the usage printed), 2 for bad input found while running (one `error:` line).
@Suite("Exit statuses: 64 usage errors, 2 bad input, as the help says")
struct ExitStatusTests {
    @Test("an unknown option or a missing value is 64 with the usage; a refused value is 2 with one error line; --help documents both")
    func statuses() async throws {
        let store = try LocalStore("mfa-exit-status")
        let help = try await store.mfactl(["--help"])
        #expect(help.status == 0 && help.stdout.contains("64 a usage") && help.stdout.contains("2 bad input"), "\(help.stdout)")
        for usage in [["audit", "list", "--bogus"], ["audit", "list", "--limit"], ["audit", "list", "--limit", "many"], ["mfa", "verify", "--user", "a"]] {
            let r = try await store.mfactl(usage)
            #expect(r.status == 64 && r.stderr.contains("Usage:"), "\(usage) \(r.status) \(r.stderr)")
        }
        let refused = try await store.mfactl(["audit", "list", "--since", "yesterday"])
        #expect(refused.status == 2 && refused.stderr.hasPrefix("error: ") && refused.stderr.split(separator: "\n").count == 1, "\(refused.status) \(refused.stderr)")
    }
}
