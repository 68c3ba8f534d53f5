import Foundation
import TestSupport
import Testing

/// Files the service creates (issue 16, item 5): the vault key, the first admin key and the SQLite
/// database are their owner's alone from the start, and processes starting together share one key.
@Suite("Private files: 0600 from creation, one vault key for simultaneous first starts")
struct PrivateFilesTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func fresh() throws -> URL { try LocalStore.freshDirectory("mfa-files") }

    @Test("six processes creating their first device at once: one vault key, and every device opens with it")
    func simultaneousFirstStarts() async throws {
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let environment = ["MFA_DATA_DIR": data]
        let created = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for i in 0..<6 {
                group.addTask { try await TestTools.run(TestTools.product("mfactl"), ["mfa", "create-virtual", "--user", "u\(i)", "--json"], environment: environment, timeout: 60) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let keyFile = data + "/vault.key"
        #expect(try Self.mode(keyFile) == 0o600)
        #expect(try Self.mode(data) == 0o700)
        #expect(try Self.mode(data + "/mfa.sqlite") == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let t = ServiceEndToEndTests.now
        for (i, result) in created.enumerated() {
            try #require(result.status == 0, "create-virtual \(i): \(result.stderr)")
            let device = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let serial = try #require(device["serial"] as? String), secret = try #require(device["secret"] as? String)
            let user = try #require((device["uri"] as? String).flatMap { $0.split(separator: ":").dropFirst(2).first?.split(separator: "?").first.map(String.init) })
            let enabled = try await TestTools.run(TestTools.product("mfactl"), [
                "mfa", "enable", "--user", user, "--serial", serial,
                "--code1", ServiceEndToEndTests.oathtool(secret, at: t - 30), "--code2", ServiceEndToEndTests.oathtool(secret, at: t),
            ], environment: environment)
            #expect(enabled.status == 0, "\(serial) was sealed under a key the file does not hold: \(enabled.stderr)")
        }
        let audit = try await TestTools.run(TestTools.product("mfactl"), ["audit", "verify"], environment: environment)
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }

    @Test("two servers started together on a new store: one prints the first admin key, the other says so")
    func twoFirstStarts() async throws {
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path,
                         "--key-file", directory.appendingPathComponent("vault.key").path]
        let servers = try (0..<2).map { _ in try BackgroundProcess(TestTools.product("mfactl"), arguments, environment: ["MFA_DATA_DIR": directory.path]) }
        for server in servers { #expect(await server.waitForOutput("listening on http", timeout: 30), "\(server.stderr)") }
        let printed = servers.filter { $0.stdout.contains(" mfa_") }
        #expect(printed.count == 1, "\(servers.map(\.stdout))")
        #expect(servers.filter { $0.stdout.contains("created admin API key") }.count == 1, "\(servers.map(\.stdout))")
        let listed = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "list", "--json", "--db", arguments[4], "--key-file", arguments[6]])
        #expect(listed.stdout.components(separatedBy: "bootstrap admin").count == 2, "\(listed.stdout)")
        for server in servers { _ = await server.stop() }
    }

    @Test("serve --admin-key-file: the first admin key in a new 0600 file, not on stdout; an existing file is refused")
    func adminKeyFile() async throws {
        let directory = try Self.fresh()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("admin.key").path
        // The store's directory exists (mfactl makes no directory but its default data directory).
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("db"), withIntermediateDirectories: false)
        let arguments = ["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + directory.appendingPathComponent("db/mfa.sqlite").path,
                         "--key-file", directory.appendingPathComponent("vault.key").path, "--admin-key-file", keyPath]
        let server = try BackgroundProcess(TestTools.product("mfactl"), arguments, environment: ["MFA_DATA_DIR": directory.path])
        #expect(await server.waitForOutput("listening on http", timeout: 30), "\(server.stderr)")
        let token = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try token.hasPrefix("mfa_") && Self.mode(keyPath) == 0o600)
        #expect(!server.stdout.contains(token) && !server.stderr.contains(token))
        #expect(try Self.mode(directory.appendingPathComponent("db/mfa.sqlite").path) == 0o600)
        #expect(try Self.mode(directory.appendingPathComponent("vault.key").path) == 0o600)
        let url = try #require(server.stdout.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) })
        let ok = try await TestTools.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", url + "/v1/devices?assignment=any"])
        #expect(ok.stdout == "200")
        _ = await server.stop()
        // A fresh store with the admin key file already there: refused before any key is made.
        let again = try await TestTools.run(TestTools.product("mfactl"), ["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + directory.appendingPathComponent("other.sqlite").path,
                                                                     "--key-file", directory.appendingPathComponent("vault.key").path, "--admin-key-file", keyPath], timeout: 30)
        #expect(again.status != 0 && again.stderr.contains("exists"), "\(again.stderr)")
    }
}
