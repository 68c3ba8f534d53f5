import Foundation
import TestSupport
import Testing

/// Issue 17: `mfa create-virtual --digits --algorithm --period`, checked against oathtool's codes, and
/// `--qr` repeatable (terminal and PNG in one call).
@Suite("create-virtual: --digits, --algorithm, --period (oathtool's codes), repeatable --qr")
struct CreateVirtualOptionsTests {
    static func oathtool(_ secret: String, at time: Int64) async throws -> String {
        try await TestTools.run("oathtool", ["--totp=sha256", "-d", "8", "-s", "60s", "-b", "-N", "@\(time)", secret]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates, enables and signs in with an 8-digit, SHA-256, 60 s device through `run`.
    static func roundTrip(_ run: ([String]) async throws -> ProcessResult, user: String) async throws {
        let created = try await run(["mfa", "create-virtual", "--user", user, "--digits", "8", "--algorithm", "SHA-256", "--period", "60", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any], "\(created.stderr)")
        let secret = try #require(json["secret"] as? String)
        let serial = try #require(json["serial"] as? String)
        let uriText = try #require(json["uri"] as? String)
        let uri = try #require(URLComponents(string: uriText))
        let items = Dictionary(uniqueKeysWithValues: (uri.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["algorithm"] == "SHA256" && items["digits"] == "8" && items["period"] == "60", "\(items)")
        // A SHA-256 seed is as long as the hash: 32 bytes, 52 Base32 characters without padding.
        #expect(secret.trimmingCharacters(in: CharacterSet(charactersIn: "=")).count == 52, "\(secret)")

        let now = Int64(Date().timeIntervalSince1970)
        let enable = try await run(["mfa", "enable", "--user", user, "--serial", serial,
                                    "--code1", try await oathtool(secret, at: now - 60), "--code2", try await oathtool(secret, at: now)])
        #expect(enable.status == 0, "\(enable.stderr)")
        let next = try await oathtool(secret, at: now + 60)
        #expect(next.count == 8)
        let verify = try await run(["mfa", "verify", "--user", user, "--code", next])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let list = try await run(["mfa", "list", "--user", user, "--json"])
        let devices = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["devices"] as? [[String: Any]])
        #expect(devices.first?["algorithm"] as? String == "sha256" && devices.first?["digits"] as? Int == 8 && devices.first?["period"] as? Int == 60,
                "\(devices)")

        for bad in [["--algorithm", "md5"], ["--digits", "9"], ["--period", "0"], ["--qr", "svg:x"]] {
            let r = try await run(["mfa", "create-virtual", "--user", user + "-bad"] + bad)
            #expect(r.status == 2 && r.stderr.hasPrefix("error: "), "\(bad) \(r.stderr)")
        }
        let none = try await run(["mfa", "list", "--user", user + "-bad", "--json"])
        #expect(none.stdout.contains("\"devices\" : [\n\n  ]") || none.stdout.contains("\"devices\" : []"), "\(none.stdout)")
    }

    @Test("local store: an 8-digit SHA-256 60 s device enables and signs in with oathtool's codes")
    func local() async throws {
        let store = try LocalStore("mfa-create-options")
        try await Self.roundTrip({ try await store.mfactl($0) }, user: "opts")
    }

    @Test("over --server: the same options reach the service")
    func remote() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        try await Self.roundTrip({ try await server.mfactl($0) }, user: "opts remote")
    }

    @Test("--qr terminal --qr png:FILE: both in one call, the PNG decodes to the printed URI")
    func bothQRCodes() async throws {
        let store = try LocalStore("mfa-create-qr")
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-qr-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: png) }
        let r = try await store.mfactl(["mfa", "create-virtual", "--user", "qr", "--qr", "terminal", "--qr", "png:" + png])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("█") || r.stderr.contains("▀") || r.stderr.contains("▄"), "no terminal QR code: \(r.stderr.prefix(200))")
        let uri = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("uri:") }.map { $0.dropFirst(4).trimmingCharacters(in: .whitespaces) })
        let decoded = try await TestTools.run("zbarimg", ["--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", png]).stdout
        #expect(decoded.trimmingCharacters(in: .newlines) == uri)
        let twice = try await store.mfactl(["mfa", "create-virtual", "--user", "qr2", "--qr", "png:" + png + "2", "--qr", "png:" + png + "2"])
        #expect(twice.status == 2 && twice.stderr.contains("same PNG file twice"), "\(twice.stderr)")
    }
}
