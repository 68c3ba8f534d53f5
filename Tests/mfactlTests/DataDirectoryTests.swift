import Foundation
import TestSupport
import Testing

/// Where the store lives when no `--db` is given (issue 17, bug 1): `MFA_DATA_DIR`, else
/// `XDG_DATA_HOME/mfa-bridge`, else `$HOME/.local/share/mfa-bridge` — the environment's `HOME`, not
/// the password database's, so `HOME=/tmp/x mfactl serve` never opens another admin's store.
@Suite("Data directory: MFA_DATA_DIR, then XDG_DATA_HOME, then $HOME")
struct DataDirectoryTests {
    /// Starts `serve` on a free port with `environment` and returns what it printed once listening.
    static func start(_ environment: [String: String]) async throws -> String {
        let server = try BackgroundProcess(TestTools.product("mfactl"), ["serve", "--listen", "127.0.0.1:0"], environment: environment)
        let ready = await server.waitForOutput("listening on http", timeout: 30)
        let output = server.stdout
        _ = await server.stop()
        #expect(ready, "\(server.stderr)")
        return output
    }

    @Test("each rule in turn picks the directory, serve prints it, and the store and key are created there")
    func order() async throws {
        let root = try LocalStore.freshDirectory("mfa-dirs")
        defer { try? FileManager.default.removeItem(at: root) }
        let home = root.appendingPathComponent("home").path, xdg = root.appendingPathComponent("xdg").path, explicit = root.appendingPathComponent("explicit").path
        // Empty values count as unset, so the test's own environment cannot leak in.
        let cases: [(environment: [String: String], expected: String)] = [
            (["HOME": home, "XDG_DATA_HOME": "", "MFA_DATA_DIR": "", "MFACTL_DB": "", "MFACTL_KEY_FILE": ""], home + "/.local/share/mfa-bridge"),
            (["HOME": home, "XDG_DATA_HOME": xdg, "MFA_DATA_DIR": "", "MFACTL_DB": "", "MFACTL_KEY_FILE": ""], xdg + "/mfa-bridge"),
            (["HOME": home, "XDG_DATA_HOME": xdg, "MFA_DATA_DIR": explicit, "MFACTL_DB": "", "MFACTL_KEY_FILE": ""], explicit),
        ]
        for (environment, expected) in cases {
            let output = try await Self.start(environment)
            #expect(output.contains("data directory: \(expected) ("), "\(output)")
            #expect(output.contains("store: sqlite:\(expected)/mfa.sqlite"), "\(output)")
            #expect(output.contains("first start: created admin API key"), "a new directory is a new store: \(output)")
            #expect(FileManager.default.fileExists(atPath: expected + "/mfa.sqlite") && FileManager.default.fileExists(atPath: expected + "/vault.key"))
        }
        // Started again on the first directory: the same store (no new first-start key).
        let again = try await Self.start(cases[0].environment)
        #expect(!again.contains("first start"), "\(again)")
    }
}
