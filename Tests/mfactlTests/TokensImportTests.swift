import Foundation
import OTP
import TestSupport
import Testing

/// `mfactl tokens import` locally (--db sqlite) and through a live `mfactl serve`, then
/// `mfactl mfa enable` and `verify` with oathtool's codes for the imported seeds.
@Suite("mfactl tokens import")
struct TokensImportTests {
    static let psk = "00112233445566778899aabbccddeeff"

    static func totp(_ hex: String, at time: Int64) async throws -> String {
        try await TestTools.run("oathtool", ["--totp", "-N", "@\(time)", hex]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func json(_ result: ProcessResult) async throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "not JSON: \(result.stdout) \(result.stderr)")
    }

    static func writeFile(_ tokens: [PSKCReference.Token], in directory: URL, mode: PSKCReference.Mode = .psk, secret: String? = psk) throws -> String {
        let path = directory.appendingPathComponent("batch-\(UUID().uuidString).pskc").path
        try Data(try PSKCReference.write(tokens, mode: mode, secret: secret)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("local SQLite: import (JSON report), re-run skips, bad key exit 2, enable + verify with oathtool")
    func local() async throws {
        let store = try LocalStore("mfactl-import")
        let directory = store.directory
        let mfactl = store.mfactl

        let seed = Hex.encode(LibCrypto.randomBytes(20))
        let file = try Self.writeFile(
            [PSKCReference.Token(serial: "CLI-1", seedHex: seed, type: "totp"), PSKCReference.Token(serial: "CLI-2", seedHex: Hex.encode(LibCrypto.randomBytes(20)), type: "hotp")],
            in: directory)
        let first = try await mfactl(["tokens", "import", file, "--psk", Self.psk, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try await Self.json(first)
        #expect(report["imported"] as? Int == 2 && report["committed"] as? Bool == true && report["format"] as? String == "pskc")
        #expect(!first.stdout.contains(seed) && !first.stderr.contains(Self.psk))
        // Not a terminal: no progress bar on stderr.
        #expect(!first.stderr.contains("["))

        let again = try await mfactl(["tokens", "import", file, "--psk", Self.psk])
        #expect(again.status == 0 && again.stdout.contains("0 imported, 2 skipped, 0 rejected"), "\(again.stdout)")

        let wrong = try await mfactl(["tokens", "import", file, "--psk", "ffeeddccbbaa99887766554433221100"])
        #expect(wrong.status != 0)
        let missing = try await mfactl(["tokens", "import", file])
        #expect(missing.status == 2 && missing.stderr.contains("--psk"))

        // A password file.
        let passwordFile = directory.appendingPathComponent("pw").path
        try Data("s3cret phrase\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        let pbkdf2 = try Self.writeFile([PSKCReference.Token(serial: "CLI-3", seedHex: Hex.encode(LibCrypto.randomBytes(20)), type: "totp")], in: directory, mode: .pbkdf2, secret: "s3cret phrase")
        let imported = try await mfactl(["tokens", "import", pbkdf2, "--password-file", passwordFile])
        #expect(imported.status == 0 && imported.stdout.contains("CLI-3\timported"), "\(imported.stdout) \(imported.stderr)")

        // Rejections: all-or-nothing exits 1 and stores nothing; --partial stores the good one.
        let csv = directory.appendingPathComponent("bad.csv").path
        try Data("serial,seed,type,digits,counter_or_period\nCSV-OK,\(Hex.encode(LibCrypto.randomBytes(20))),totp,6,30\nCSV-BAD,abcd,totp,6,30\n".utf8)
            .write(to: URL(fileURLWithPath: csv))
        let held = try await mfactl(["tokens", "import", csv])
        #expect(held.status == 1 && held.stdout.contains("CSV-BAD\trejected\tshort-seed"), "\(held.stdout)")
        let partial = try await mfactl(["tokens", "import", csv, "--partial", "--json"])
        let partialReport = try await Self.json(partial)
        #expect(partial.status == 1 && partialReport["imported"] as? Int == 1)

        let inventory = try await mfactl(["tokens", "list", "--assignment", "unassigned"])
        #expect(inventory.stdout.contains("CLI-1") && inventory.stdout.contains("CSV-OK") && !inventory.stdout.contains("CSV-BAD"))

        let now = Int64(Date().timeIntervalSince1970)
        let enable = try await mfactl(["mfa", "enable", "--user", "carol", "--serial", "CLI-1", "--code1", Self.totp(seed, at: now - 30), "--code2", Self.totp(seed, at: now)])
        #expect(enable.status == 0, "\(enable.stderr)")
        // The enabling codes are used up; the next step's code (within the ±1 window) verifies.
        let verify = try await mfactl(["mfa", "verify", "--user", "carol", "--code", Self.totp(seed, at: now + 30)])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let audit = try await mfactl(["audit", "list", "--limit", "1000"])
        #expect(audit.stdout.contains("tokens.import") && audit.stdout.contains("sha256:"))
    }

    @Test("remote: POST /v1/tokens/import through mfactl --server, then enable and verify", arguments: ServiceEndToEndTests.Store.allCases)
    func remote(store: ServiceEndToEndTests.Store) async throws {
        let server = try await ServiceEndToEndTests.Server(store)
        let seed = Hex.encode(LibCrypto.randomBytes(20))
        let file = try Self.writeFile([PSKCReference.Token(serial: "REM-1", seedHex: seed, type: "totp")], in: server.directory)
        let report = try await server.json(["tokens", "import", file, "--psk", Self.psk])
        #expect(report["imported"] as? Int == 1 && report["committed"] as? Bool == true)
        let again = try await server.json(["tokens", "import", file, "--psk", Self.psk])
        #expect(again["skipped"] as? Int == 1)
        // Rejections come back as a report (HTTP 422, nothing stored).
        let csv = server.directory.appendingPathComponent("bad.csv").path
        try Data("REM-2,\(Hex.encode(LibCrypto.randomBytes(20))),totp,6,30\nREM-3,00000000000000000000,totp,6,30\n".utf8).write(to: URL(fileURLWithPath: csv))
        let rejected = try await server.mfactl(["tokens", "import", csv, "--json"])
        #expect(rejected.status == 1)
        let body = try await Self.json(rejected)
        #expect(body["committed"] as? Bool == false && body["rejected"] as? Int == 1)
        // A hostile file is a typed error.
        let hostile = server.directory.appendingPathComponent("x.pskc").path
        try Data(#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#.utf8).write(to: URL(fileURLWithPath: hostile))
        let refused = try await server.mfactl(["tokens", "import", hostile])
        #expect(refused.status == 2 && refused.stderr.contains("seed-file.forbidden-xml"), "\(refused.stderr)")

        let now = Int64(Date().timeIntervalSince1970)
        let enable = try await server.mfactl(["mfa", "enable", "--user", "dave", "--serial", "REM-1", "--code1", Self.totp(seed, at: now - 30), "--code2", Self.totp(seed, at: now)])
        #expect(enable.status == 0, "\(enable.stderr)")
        let verify = try await server.mfactl(["mfa", "verify", "--user", "dave", "--code", Self.totp(seed, at: now + 30)])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test("the route needs the admin scope")
    func scope() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        let created = try await TestTools.run(TestTools.product("mfactl"), ["api-key", "create", "--name", "v", "--scope", "verifier", "--db", server.db, "--key-file", server.keyFile, "--json"])
        let token = try await #require(try Self.json(created)["token"] as? String)
        let file = try Self.writeFile([PSKCReference.Token(serial: "SC-1", seedHex: Hex.encode(LibCrypto.randomBytes(20)), type: "totp")], in: server.directory)
        let result = try await TestTools.run(TestTools.product("mfactl"), ["tokens", "import", file, "--psk", Self.psk],
                                       environment: ["MFACTL_SERVER": server.url, "MFACTL_API_KEY": token])
        #expect(result.status == 2 && result.stderr.contains("403"), "\(result.stderr)")
    }
}
