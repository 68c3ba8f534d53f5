import Foundation
import TestSupport
import Testing

/// `mfa diagnose` says what a sign-in would say (issue 17, bug 7): the device's state and replay
/// watermark first, "accept" only when a sign-in really would, and a used code called a replay.
@Suite("diagnose agrees with sign-in: state and watermark first")
struct DiagnoseTests {
    @Test("a used code is a replay (not 'resync?'); on a locked device no code 'would be accepted', and verify agrees")
    func lockedAndUsed() async throws {
        let store = try LocalStore("mfa-diag")
        let mfactl = store.mfactl
        func json(_ arguments: [String]) async throws -> [String: Any] {
            let result = try await mfactl(arguments + ["--json"])
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        }
        let created = try await json(["mfa", "create-virtual", "--user", "dora"])
        let serial = try #require(created["serial"] as? String), secret = try #require(created["secret"] as? String)
        let t = ServiceEndToEndTests.now
        let enabled = try await mfactl(["mfa", "enable", "--user", "dora", "--serial", serial,
                                        "--code1", try await ServiceEndToEndTests.oathtool(secret, at: t - 30), "--code2", try await ServiceEndToEndTests.oathtool(secret, at: t)])
        try #require(enabled.status == 0, "\(enabled.stderr)")

        // The code enable just used: already used, and said to be a replay.
        let used = try await ServiceEndToEndTests.oathtool(secret, at: t)
        let replay = try await mfactl(["mfa", "diagnose", "--serial", serial, "--code", used])
        #expect(replay.stdout.hasPrefix("\(serial): active, last accepted step/counter \(t / 30)"), "\(replay.stdout)")
        #expect(replay.stdout.contains("already used: a sign-in rejects it as a replay") && !replay.stdout.contains("resync"), "\(replay.stdout)")

        // Ten wrong codes lock the device; the next right code is then within the window but refused.
        for _ in 0..<10 { _ = try await mfactl(["mfa", "verify", "--user", "dora", "--code", "000000"]) }
        let next = try await ServiceEndToEndTests.oathtool(secret, at: t + 30)
        let locked = try await json(["mfa", "diagnose", "--serial", serial, "--code", next])
        #expect(locked["state"] as? String == "locked" && locked["lockedUntil"] is Int && locked["withinSignInWindow"] as? Bool == false, "\(locked)")
        let text = try await mfactl(["mfa", "diagnose", "--serial", serial, "--code", next])
        #expect(text.stdout.contains("\(serial): locked until ") && text.stdout.contains("a sign-in rejects every code while the device is locked"), "\(text.stdout)")
        #expect(!text.stdout.contains("would accept"), "\(text.stdout)")
        let verify = try await mfactl(["mfa", "verify", "--user", "dora", "--code", next])
        #expect(verify.status == 1, "verify must agree with diagnose: \(verify.stdout)")
    }
}
