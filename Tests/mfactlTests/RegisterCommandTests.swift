import Foundation
import OTP
import TestSupport
import Testing

/// Issue 17: `mfa register` for one hardware token typed in by hand, then enabled with oathtool's
/// codes, on the local store and over --server.
@Suite("mfa register: one hardware token by hand, enabled with oathtool's codes")
struct RegisterCommandTests {
    static func roundTrip(_ run: ([String]) async throws -> ProcessResult, directory: URL, user: String) async throws {
        let seed = LibCrypto.randomBytes(20)
        let secretFile = directory.appendingPathComponent("seed-\(UUID().uuidString.prefix(6))").path
        try Data((OTPSecret(bytes: seed).base32EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let registered = try await run(["mfa", "register", "--serial", "HW-TOTP-1", "--type", "totp", "--secret-file", secretFile, "--user", user])
        #expect(registered.status == 0 && registered.stdout.hasPrefix("registered HW-TOTP-1 (hardware-totp, pending)"), "\(registered.stdout) \(registered.stderr)")
        let now = Int64(Date().timeIntervalSince1970)
        func totp(_ t: Int64) async throws -> String {
            try await TestTools.run("oathtool", ["--totp", "-N", "@\(t)", Hex.encode(seed)]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let enable = try await run(["mfa", "enable", "--user", user, "--serial", "HW-TOTP-1", "--code1", try await totp(now - 30), "--code2", try await totp(now)])
        #expect(enable.status == 0, "\(enable.stderr)")
        #expect(try await run(["mfa", "verify", "--user", user, "--code", try await totp(now + 30)]).status == 0)

        // HOTP, as inventory, seed in hex on the command line, from counter 5.
        let hotpSeed = LibCrypto.randomBytes(20)
        let hotp = try await run(["mfa", "register", "--serial", "HW-HOTP-1", "--type", "hotp", "--secret", "hex:" + Hex.encode(hotpSeed), "--counter", "5", "--json"])
        #expect(hotp.status == 0 && hotp.stdout.contains("\"state\" : \"unassigned\""), "\(hotp.stdout) \(hotp.stderr)")
        func hotpCode(_ c: Int) async throws -> String {
            try await TestTools.run("oathtool", ["--hotp", "-c", "\(c)", Hex.encode(hotpSeed)]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let assign = try await run(["mfa", "enable", "--user", user + "-2", "--serial", "HW-HOTP-1", "--code1", try await hotpCode(5), "--code2", try await hotpCode(6)])
        #expect(assign.status == 0, "\(assign.stderr)")
        #expect(try await run(["mfa", "verify", "--user", user + "-2", "--code", try await hotpCode(7)]).status == 0)

        let duplicate = try await run(["mfa", "register", "--serial", "HW-TOTP-1", "--type", "totp", "--secret-file", secretFile])
        #expect(duplicate.status == 2 && duplicate.stderr.contains("HW-TOTP-1"), "\(duplicate.stderr)")
        for bad in [["--type", "totp", "--secret", "not base32!"], ["--type", "yubico", "--secret", "GEZDGNBV"], ["--type", "totp"],
                    ["--type", "hotp", "--secret", "hex:zz"]] {
            let r = try await run(["mfa", "register", "--serial", "HW-BAD"] + bad)
            #expect(r.status == 2 && r.stderr.hasPrefix("error: "), "\(bad) \(r.stderr)")
        }
    }

    @Test("local store")
    func local() async throws {
        let store = try LocalStore("mfa-register")
        try await Self.roundTrip({ try await store.mfactl($0) }, directory: store.directory, user: "hw user")
    }

    @Test("over --server (POST /v1/devices)")
    func remote() async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        try await Self.roundTrip({ try await server.mfactl($0) }, directory: server.directory, user: "hw 用户")
    }
}
