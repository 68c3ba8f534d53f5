import Foundation
import TestSupport
import Testing

/// The README's and Docs/'s command examples, run line by line as an admin would type them: only the
/// placeholders (`mfa_…`, `V…`, codes) become real values.
extension DocExamplesTests {
    /// `mfactl serve` on a fresh data directory (`MFA_DATA_DIR`), any free loopback port: its URL and
    /// the admin key it printed on first start.
    static func startServer(_ directory: URL) async throws -> (BackgroundProcess, url: String, key: String) {
        let process = try BackgroundProcess(
            TestTools.product("mfactl"), ["serve", "--listen", "127.0.0.1:0"], environment: ["MFA_DATA_DIR": directory.path])
        try #require(await process.waitForOutput("listening on http", timeout: 30), "\(process.stdout) \(process.stderr)")
        let words = process.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let url = try #require(words.first { $0.hasPrefix("http://127.0.0.1:") })
        let key = try #require(words.first { $0.hasPrefix("mfa_") }, "\(process.stdout)")
        return (process, url, key)
    }

    static func oathtool(_ arguments: [String]) async throws -> String {
        let result = try await TestTools.run("oathtool", arguments)
        try #require(result.status == 0, "oathtool \(arguments): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func totp(_ secret: String, at time: Int64) async throws -> String {
        try await oathtool(["--totp", "-N", "@\(time)", "-b", secret])
    }

    /// The value after `label` on a line of human output (`serial: V…`).
    static func field(_ label: String, in output: String) throws -> String {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix(label) }, "no '\(label)' in: \(output)")
        return try #require(line.dropFirst(label.count).split(separator: " ").first.map(String.init))
    }

    @Test("README quickstart: create-virtual → enable → verify → resync against a running server")
    func readmeQuickstart() async throws {
        let lines = try DocPages.block("readme-quickstart").commands
        try #require(lines.count == 5, "\(lines)")
        let directory = try LocalStore.freshDirectory("mfa-doc-quickstart")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, url, key) = try await Self.startServer(directory)
        defer { server.stop() }
        let shell = DocShell(directory: directory)
        try await shell.run(lines[0], replacing: [("http://127.0.0.1:8080", url), ("mfa_…", key)])
        let created = try await shell.run(lines[1])
        let serial = try Self.field("serial: ", in: created.stdout)
        let secret = try Self.field("secret: ", in: created.stdout)
        let now = Int64(Date().timeIntervalSince1970)
        try await shell.run(lines[2], replacing: [
            ("V…", serial), ("--code1 123456", "--code1 " + (try await Self.totp(secret, at: now - 30))),
            ("--code2 654321", "--code2 " + (try await Self.totp(secret, at: now))),
        ])
        // The next step's code: the current one was just used by enable (each code once).
        let verified = try await shell.run(lines[3], replacing: [("112233", try await Self.totp(secret, at: now + 30))])
        #expect(verified.stdout.contains("accepted (\(serial))"), "\(verified.stdout)")
        // A token 10 minutes ahead: two consecutive codes of its clock.
        try await shell.run(lines[4], replacing: [
            ("V…", serial), ("--code1 …", "--code1 " + (try await Self.totp(secret, at: now + 600))),
            ("--code2 …", "--code2 " + (try await Self.totp(secret, at: now + 630))),
        ])
        let after = try await shell.run("mfactl mfa verify --user alice --code " + (try await Self.totp(secret, at: now + 660)))
        #expect(after.stdout.contains("accepted"), "the resynchronized token's next code: \(after.stdout)")
    }

    @Test("README `mfactl otp`: every line runs, and the codes match oathtool")
    func readmeOTP() async throws {
        let lines = try DocPages.block("readme-otp").commands
        try #require(lines.count == 5, "\(lines)")
        let directory = try LocalStore.freshDirectory("mfa-doc-otp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shell = DocShell(directory: directory)
        let before = Int64(Date().timeIntervalSince1970)
        let code = try await shell.run(lines[0]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = [try await Self.totp("JBSWY3DPEHPK3PXP", at: before), try await Self.totp("JBSWY3DPEHPK3PXP", at: before + 1)]
        #expect(expected.contains(code), "otp generate printed \(code), oathtool \(expected)")
        let hotp = try await shell.run(lines[1], replacing: [("3132…30", "3132333435363738393031323334353637383930")])
        #expect((try? JSONSerialization.jsonObject(with: Data(hotp.stdout.utf8))) is [String: Any], "\(hotp.stdout)")
        let now = Int64(Date().timeIntervalSince1970)
        try await shell.run(lines[2], replacing: [("123456", try await Self.totp("JBSWY3DPEHPK3PXP", at: now))])
        let made = try await shell.run(lines[3])
        #expect(made.stdout.contains("otpauth://totp/Example%20Corp:alice@example.com?"), "\(made.stdout)")
        let parsed = try await shell.run(lines[4])
        #expect(parsed.stdout.contains("\"account\"") && !parsed.stdout.contains("JBSWY3DPEHPK3PXP"), "secrets are redacted: \(parsed.stdout)")
    }

    @Test("Docs/import.md: the commands import a PSK-encrypted PSKC file (python-pskc) and enable its token")
    func importCommands() async throws {
        let lines = try DocPages.block("import-commands").commands
        try #require(lines.count == 3, "\(lines)")
        let directory = try LocalStore.freshDirectory("mfa-doc-import")
        defer { try? FileManager.default.removeItem(at: directory) }
        let seed = "3132333435363738393031323334353637383930"
        let file = try PSKCReference.write(
            [.init(serial: "987654321", seedHex: seed, type: "hotp")], mode: .psk, secret: "12345678901234567890123456789012")
        try Data(file).write(to: directory.appendingPathComponent("batch-2024-07.pskc"))
        let shell = DocShell(directory: directory, environment: ["MFA_DATA_DIR": directory.path])
        try await shell.run(lines[0])
        let listed = try await shell.run(lines[1])
        #expect(listed.stdout.contains("987654321"), "\(listed.stdout)")
        let base32 = try await Self.oathtool(["--hotp", "-v", seed]).split(separator: "\n").first { $0.hasPrefix("Base32 secret: ") }
        let secret = try #require(base32.map { String($0.dropFirst("Base32 secret: ".count)) })
        try await shell.run(lines[2], replacing: [
            ("--code1 123456", "--code1 " + (try await Self.oathtool(["--hotp", "-c", "0", "-b", secret]))),
            ("--code2 654321", "--code2 " + (try await Self.oathtool(["--hotp", "-c", "1", "-b", secret]))),
        ])
    }

    @Test("Docs/import.md: the CSV example imports as it stands (three tokens, no rejection)")
    func importCSV() async throws {
        let store = try LocalStore("mfa-doc-csv")
        let file = store.directory.appendingPathComponent("tokens.csv")
        try Data(try DocPages.block("import-csv").text.utf8).write(to: file)
        let result = try await store.mfactl(["tokens", "import", file.path, "--json"])
        #expect(result.status == 0, "the documented CSV is rejected: \(result.stdout) \(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["imported"] as? Int == 3 && report["rejected"] as? Int == 0, "\(report)")
    }

    @Test("Docs/import.md: the JSON report shows the fields and values a re-import really prints")
    func importReport() async throws {
        let documented = try DocPages.block("import-report").text.replacingOccurrences(of: ", …]", with: "]")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(documented.utf8)) as? [String: Any], "the documented report is not JSON")
        let store = try LocalStore("mfa-doc-report")
        let psk = "12345678901234567890123456789012"
        let first = store.directory.appendingPathComponent("first.pskc")
        try Data(try PSKCReference.write([.init(serial: "123456789", seedHex: "3132333435363738393031323334353637383930", type: "hotp")], mode: .psk, secret: psk)).write(to: first)
        #expect(try await store.mfactl(["tokens", "import", first.path, "--psk", psk]).status == 0)
        let second = store.directory.appendingPathComponent("second.pskc")
        try Data(try PSKCReference.write([
            .init(serial: "987654321", seedHex: "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334", type: "hotp"),
            .init(serial: "123456789", seedHex: "3132333435363738393031323334353637383930", type: "hotp"),
        ], mode: .psk, secret: psk)).write(to: second)
        let result = try await store.mfactl(["tokens", "import", second.path, "--psk", psk, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let real = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        Self.expectDocumented(doc, matches: real, at: "report")
    }

    /// Every field the documentation shows is in `real`, with the same value unless shown as `…`.
    static func expectDocumented(_ doc: [String: Any], matches real: [String: Any], at path: String) {
        for (name, value) in doc {
            guard let actual = real[name] else { Issue.record("\(path).\(name) is documented but not printed"); continue }
            switch value {
            case let text as String where text == "…": continue
            case let object as [String: Any]: expectDocumented(object, matches: actual as? [String: Any] ?? [:], at: path + "." + name)
            case let array as [Any]:
                let items = actual as? [Any] ?? []
                for (i, item) in array.enumerated() {
                    guard i < items.count else { Issue.record("\(path).\(name)[\(i)] is documented but not printed"); continue }
                    if let object = item as? [String: Any] { expectDocumented(object, matches: items[i] as? [String: Any] ?? [:], at: "\(path).\(name)[\(i)]") }
                }
            default:
                #expect("\(value)" == "\(actual)", "\(path).\(name): documented \(value), printed \(actual)")
            }
        }
    }
}
