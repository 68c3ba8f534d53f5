import Foundation
import TestSupport
import Testing

/// The benchmark, udev, virtual-YubiKey and architecture examples.
extension DocExamplesTests {
    @Test("Docs/benchmarks.md: each benchmark command runs (this build, a short budget) and prints its figures")
    func benchmarks() async throws {
        let root = DocShell(directory: TestTools.packageRoot)
        // The release build is the test's own build (debug): the command's options are what is checked.
        let otp = try DocPages.block("otp-bench").commands
        try #require(otp.count == 1)
        let otpRun = try await root.run(otp[0], replacing: [
            ("swift build -c release --product otp-bench && .build/release/otp-bench", TestTools.product("otp-bench")), ("--json", "--json --quick --runs 1"),
        ], timeout: 600)
        #expect((try? JSONSerialization.jsonObject(with: Data(otpRun.stdout.utf8))) != nil, "otp-bench --json: \(otpRun.stdout.prefix(300))")
        let reject = try DocPages.block("reject-bench").commands
        try #require(reject.count == 1)
        let rejectRun = try await root.run(reject[0], replacing: [
            ("swift build -c release --product reject-bench && .build/release/reject-bench", TestTools.product("reject-bench")),
            ("--rounds 5000", "--rounds 20"), ("[--idempotency-rows 600000]", "--idempotency-rows 500"), ("[--json]", "--json"),
        ], timeout: 300)
        #expect((try? JSONSerialization.jsonObject(with: Data(rejectRun.stdout.utf8))) != nil, "reject-bench --json: \(rejectRun.stdout.prefix(300))")
        for name in ["otp-bench", "reject-bench", "import-bench"] {
            let help = try await TestTools.run(TestTools.product(name), ["--help"])
            #expect(help.status == 0 && help.stdout.hasPrefix("usage: \(name)"), "\(name) --help prints its usage and runs nothing: \(help.stdout.prefix(200))")
            let wrong = try await TestTools.run(TestTools.product(name), ["--nonsense"])
            #expect(wrong.status == 64 && wrong.stderr.contains("--nonsense"), "\(name) refuses an unknown option: \(wrong.stderr)")
        }
        // The load benchmark: its synopsis against --help, then the A/B and SERVE_ARGS forms, one
        // second of load each on this build.
        let service = try DocPages.block("bench-service").commands
        try #require(service.count == 3)
        let help = try await root.run("scripts/bench-service.sh --help")
        for option in service[0].matches(of: /--[a-z]+/).map({ String($0.output) }) {
            #expect(help.stdout.contains(option), "bench-service.sh --help does not list \(option)")
        }
        let short = "--users 3 --duration 1"
        let ab = try await root.run(service[1], replacing: [("/path/to/other/mfactl", TestTools.product("mfactl")), ("scripts/bench-service.sh …", "scripts/bench-service.sh " + short)])
        #expect(ab.stdout.contains("requests in"), "bench-service printed no wrk figures: \(ab.stdout.suffix(400)) \(ab.stderr.suffix(400))")
        let serveArgs = try await root.run(service[2], replacing: [
            ("SERVE_ARGS=", "MFACTL=\(TestTools.product("mfactl")) SERVE_ARGS="), ("scripts/bench-service.sh …", "scripts/bench-service.sh " + short),
        ])
        #expect(serveArgs.stdout.contains("requests in"), "\(serveArgs.stdout.suffix(400)) \(serveArgs.stderr.suffix(400))")
        // The fast path's A/B: its synopsis against --help, then one short round of on, B and off.
        let fastPath = try DocPages.block("bench-fast-path").commands
        try #require(fastPath.count == 2)
        let fastHelp = try await root.run("scripts/bench-fast-path.sh --help")
        for option in fastPath[0].matches(of: /--[a-z]+/).map({ String($0.output) }) {
            #expect(fastHelp.stdout.contains(option), "bench-fast-path.sh --help does not list \(option)")
        }
        let pairs = try await root.run(fastPath[1], replacing: [
            ("/path/to/mfactl", TestTools.product("mfactl")), ("/path/to/other/mfactl", TestTools.product("mfactl")),
            ("scripts/bench-fast-path.sh …", "scripts/bench-fast-path.sh --rounds 1 " + short),
        ])
        #expect(pairs.stdout.contains("medians:") && pairs.stdout.contains("on ÷ B verifies/s per round: ") && pairs.stdout.contains("on ÷ off verifies/s per round: "),
                "\(pairs.stdout.suffix(600)) \(pairs.stderr.suffix(400))")
    }

    @Test("Docs/usb.md: the udev install copies the committed rules file; the commands after it exist with those options")
    func udevInstall() async throws {
        let lines = try DocPages.block("udev-install").commands
        try #require(lines.count == 4, "\(lines)")
        // Run into a scratch directory: the test must not change this machine's udev.
        let target = try LocalStore.freshDirectory("mfa-doc-udev")
        defer { try? FileManager.default.removeItem(at: target) }
        let shell = DocShell(directory: TestTools.packageRoot)
        try await shell.run(lines[0], replacing: [("sudo ", ""), ("/etc/udev/rules.d/", target.path + "/")])
        let copied = FileManager.default.contents(atPath: target.appendingPathComponent("70-mfa-tokens.rules").path)
        #expect(copied != nil && copied == FileManager.default.contents(atPath: TestTools.packageRoot.appendingPathComponent("udev/70-mfa-tokens.rules").path))
        // udevd, a seat and group changes are the machine's: check the commands and options exist.
        #expect(lines[1].hasPrefix("sudo udevadm control --reload") && lines[2].hasPrefix("sudo udevadm trigger") && lines[3].hasPrefix("sudo usermod -aG plugdev"))
        let control = try await TestTools.run("udevadm", ["control", "--help"])
        #expect(control.stdout.contains("--reload"), "\(control.stdout)")
        #expect(try await TestTools.run("udevadm", ["trigger", "--help"]).status == 0)
        let usermod = try await TestTools.run("usermod", ["--help"])
        #expect(usermod.stdout.contains("--append") && usermod.stdout.contains("--groups"), "\(usermod.stdout)")
    }

    @Test("Docs/usb.md: the virtual YubiKey runs `mfactl hid status` as shown")
    func virtualYubiKey() async throws {
        let lines = try DocPages.block("virtual-yubikey").commands
        try #require(lines.count == 1)
        let directory = try LocalStore.freshDirectory("mfa-doc-yk")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shell = DocShell(directory: TestTools.packageRoot)
        let status = try await shell.run(lines[0], replacing: [
            ("/tmp/yk.json", directory.appendingPathComponent("yk.json").path), (".build/debug/mfactl", TestTools.product("mfactl")),
        ])
        #expect(status.stdout.contains("firmware") && status.stdout.contains("slot 1"), "\(status.stdout)")
    }

    @Test("Docs/architecture.md: the layer diagram names every module in Sources/")
    func architectureLayers() throws {
        let diagram = try DocPages.block("architecture-layers").text
        let modules = try FileManager.default.contentsOfDirectory(atPath: TestTools.packageRoot.appendingPathComponent("Sources").path)
        #expect(modules.count > 20)
        for module in modules {
            #expect(diagram.range(of: "(?<![A-Za-z-])" + NSRegularExpression.escapedPattern(for: module) + "(?![A-Za-z-])", options: .regularExpression) != nil,
                    "Sources/\(module) is missing from the layer diagram in Docs/architecture.md")
        }
    }
}

extension DocExamplesTests {
    @Test("Docs/qr.md: the Swift example is the code QRCodeTests compiles and runs")
    func qrSwift() throws {
        let example = try DocPages.block("qr-swift").text
        let body = example.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("import ") || $0.isEmpty }.joined(separator: "\n")
        let tests = try String(contentsOf: TestTools.packageRoot.appendingPathComponent("Tests/QRCodeTests/DocExampleTests.swift"), encoding: .utf8)
        let begin = try #require(tests.range(of: "// doc: qr-swift begin\n"))
        let end = try #require(tests.range(of: "// doc: qr-swift end"))
        #expect(String(tests[begin.upperBound..<end.lowerBound]) == body + "\n", "Docs/qr.md's example differs from the compiled one in Tests/QRCodeTests/DocExampleTests.swift")
        for module in example.matches(of: /import (\w+)/).map({ String($0.output.1) }) {
            #expect(tests.contains("import \(module)\n"), "the compiled example does not import \(module)")
        }
    }
}
