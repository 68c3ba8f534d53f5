import Foundation
import TestSupport
import Testing

/// Every shell and file example of the README and `Docs/` is run (or, for synopses of a command's
/// options, checked against that command's `--help`) here, so documentation cannot drift. Examples
/// that need the virtual card run in `OATHCardTests` (one reader, one card at a time).
@Suite("Documentation examples: every block of the README and Docs/ runs")
struct DocExamplesTests {
    /// Every `<!-- example: ID -->` and the test that runs it. A new block without a marker, or a
    /// marker nobody runs, fails `everyBlockIsRun`.
    static let examples: [String: String] = [
        "readme-commands": "readmeCommands", "readme-quickstart": "readmeQuickstart", "readme-otp": "readmeOTP",
        "readme-oath": "OATHCardTests.readmeOATH", "architecture-layers": "architectureLayers",
        "otp-bench": "benchmarks", "bench-service": "benchmarks", "bench-fast-path": "benchmarks", "reject-bench": "benchmarks",
        "import-commands": "importCommands", "import-csv": "importCSV", "import-report": "importReport",
        "oath-commands": "synopses", "oath-virtual-card": "OATHCardTests.oathVirtualCard", "qr-swift": "qrSwift",
        "token-emulator-synopsis": "synopses", "token-emulator-ykman": "OATHCardTests.tokenEmulatorYkman",
        "udev-install": "udevInstall", "hid-commands": "synopses", "enroll-hid": "synopses",
        "virtual-yubikey": "virtualYubiKey",
    ]

    @Test("every fenced block has an example marker, and every marker is run by a test")
    func everyBlockIsRun() throws {
        let blocks = try DocPages.blocks()
        #expect(blocks.count >= Self.examples.count)
        for block in blocks {
            #expect(block.id != nil, "\(block): a fenced block without `<!-- example: ID -->` on the line above; add it and a test")
        }
        let ids = blocks.compactMap(\.id)
        #expect(Set(ids).count == ids.count, "an example ID is used twice: \(ids)")
        #expect(Set(ids) == Set(Self.examples.keys), "markers without a test: \(Set(ids).subtracting(Self.examples.keys)); tests without a marker: \(Set(Self.examples.keys).subtracting(ids))")
    }

    @Test("every inline `mfactl …` of the README and Docs/ names real subcommands and options")
    func inlineCommands() async throws {
        let spans = try DocPages.inlineSpans(startingWith: "mfactl ")
        #expect(spans.count > 20, "found only \(spans.count) inline mfactl commands")
        for (file, span) in spans { try await MFACtlHelp.check("mfactl", line: span, source: file) }
    }

    @Test("synopsis blocks: every subcommand and option they show is in that command's --help")
    func synopses() async throws {
        for (id, tool) in [("oath-commands", "mfactl"), ("hid-commands", "mfactl"), ("enroll-hid", "mfactl"), ("token-emulator-synopsis", "token-emulator")] {
            let block = try DocPages.block(id)
            var lines: [String] = []
            for line in block.text.split(separator: "\n") {
                if line.first == " ", !lines.isEmpty { lines[lines.count - 1] += " " + line.trimmingCharacters(in: .whitespaces) } else { lines.append(String(line)) }
            }
            #expect(lines.allSatisfy { $0.hasPrefix(tool + " ") }, "\(block): every line starts with \(tool)")
            var paths = Set<[String]>()
            for line in lines { paths.insert(try await MFACtlHelp.check(tool, line: line, source: block.description)) }
            #expect(paths.allSatisfy { $0.count >= 1 }, "\(block): a line names no subcommand")
        }
    }

    @Test("README: the service command starts on the data directory's SQLite at 127.0.0.1:8080 and prints a key; CI runs the test command")
    func readmeCommands() async throws {
        let lines = try DocPages.block("readme-commands").commands
        try #require(lines.count == 2)
        let home = try LocalStore.freshDirectory("mfa-doc-home")
        defer { try? FileManager.default.removeItem(at: home) }
        // As typed, with the test's own build for `swift run` (a nested build would fight this one for
        // the build directory) and `exec`, so the SIGTERM reaches the server.
        let serve = try #require(lines[0].split(separator: "#").first).trimmingCharacters(in: .whitespaces)
        try #require(serve == "scripts/setup.sh && swift run mfactl serve", "the README's first command changed: \(serve)")
        let line = serve.replacingOccurrences(of: "&& swift run mfactl", with: "&& exec " + TestTools.product("mfactl"))
        let process = try BackgroundProcess(
            "/bin/bash", ["-c", "cd \"$1\" && unset MFA_DATA_DIR XDG_DATA_HOME && eval \"$2\"", "doc", TestTools.packageRoot.path, line],
            environment: ["HOME": home.path, "CI": "true"])
        defer { process.stop() }
        let started = await process.waitForOutput("listening on http://127.0.0.1:8080", timeout: 240)
        #expect(started, "\(process.stdout)\n\(process.stderr)")
        #expect(process.stdout.contains("data directory: \(home.path)/.local/share/mfa-bridge"), "\(process.stdout)")
        #expect(process.stdout.contains("admin API key") && process.stdout.contains("mfa_"), "\(process.stdout)")
        #expect(FileManager.default.fileExists(atPath: home.path + "/.local/share/mfa-bridge/mfa.sqlite"))
        #expect(await process.stop(grace: 10) == 0, "\(process.stderr)")
        // The second is the test command this suite runs under: CI calls it.
        #expect(lines[1].hasPrefix("scripts/test.sh "))
        let ci = try String(contentsOf: TestTools.packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("scripts/test.sh"), ".ci/run does not call the README's test command")
    }
}
