import Foundation
import TestSupport
import Testing
import TokenDevices
import VirtualTokens

/// The OATH applet over a real pcscd with the vpcd virtual reader, cross-checked with clients and
/// generators nobody here wrote: ykman (yubikey-manager) and oathtool.
@Suite("OATH over PC/SC: virtual card, pcscd/vpcd, ykman, oathtool", .serialized)
struct OATHCardTests {
    static let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    let r = ["--reader", VirtualCard.reader]

    @Test("a credential added by ykman: mfactl's code equals oathtool's")
    func ykmanAddsMfactlReads() async throws {
        let card = try await VirtualCard()
        let add = try await card.ykman(["oath", "accounts", "add", "-f", "-o", "TOTP", "-i", "Example", "alice", Self.secret])
        #expect(add.status == 0, "ykman: \(add.stderr)")
        let time: Int64 = 1_700_000_015
        let code = try await card.mfactl(["oath", "code"] + r + ["--name", "alice", "--time", String(time)])
        #expect(code.status == 0, "\(code.stderr)")
        let expected = try await oathtoolTOTP(Self.secret, times: [time]).first!
        #expect(code.stdout == "Example:alice\t\(expected)\n")
        let list = try await card.mfactl(["oath", "list", "--json"] + r)
        #expect(list.stdout.contains("\"issuer\" : \"Example\"") && list.stdout.contains("\"account\" : \"alice\""))
    }

    @Test("a credential put by mfactl: ykman lists it and its code equals oathtool's (SHA-256, 8 digits, 60 s)")
    func mfactlPutsYkmanReads() async throws {
        let card = try await VirtualCard()
        let put = try await card.mfactl(
            ["oath", "put"] + r + ["--name", "Corp:bob", "--secret", Self.secret, "--algorithm", "sha256", "--digits", "8", "--period", "60"])
        #expect(put.status == 0 && put.stdout.contains("stored 60/Corp:bob"), "\(put.stderr)")
        let put512 = try await card.mfactl(["oath", "put"] + r + ["--name", "Corp:carol", "--secret", Self.secret, "--algorithm", "sha512", "--digits", "8"])
        #expect(put512.status == 0, "\(put512.stderr)")
        let list = try await card.ykman(["oath", "accounts", "list"])
        #expect(list.status == 0 && list.stdout.contains("Corp:bob") && list.stdout.contains("Corp:carol"), "\(list.stderr)")
        let before = unixNow
        let codes = try await card.ykman(["oath", "accounts", "code"])
        let after = unixNow
        #expect(codes.status == 0, "\(codes.stderr)")
        let bob = try await oathtoolTOTP(Self.secret, times: [before, after], algorithm: "sha256", digits: 8, period: 60)
        let carol = try await oathtoolTOTP(Self.secret, times: [before, after], algorithm: "sha512", digits: 8, period: 30)
        let lines = codes.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("Corp:bob") && bob.contains(String($0.split(separator: " ").last ?? "")) }, "\(lines) vs \(bob)")
        #expect(lines.contains { $0.contains("Corp:carol") && carol.contains(String($0.split(separator: " ").last ?? "")) }, "\(lines) vs \(carol)")
        // mfactl at a fixed time, including the 60 s credential that CALCULATE ALL cannot do alone.
        let ours = try await card.mfactl(["oath", "code", "--time", "1700000000", "--json"] + r)
        let bobAt = try await oathtoolTOTP(Self.secret, times: [1_700_000_000], algorithm: "sha256", digits: 8, period: 60).first!
        let carolAt = try await oathtoolTOTP(Self.secret, times: [1_700_000_000], algorithm: "sha512", digits: 8).first!
        #expect(ours.stdout.contains("\"code\" : \"\(bobAt)\"") && ours.stdout.contains("\"code\" : \"\(carolAt)\""))
    }

    @Test("HOTP counters advance consistently between ykman, mfactl and oathtool")
    func hotpCounters() async throws {
        let card = try await VirtualCard()
        await #expect(try card.ykman(["oath", "accounts", "add", "-f", "-o", "HOTP", "-c", "5", "hot", Self.secret]).status == 0)
        let first = try await card.mfactl(["oath", "code"] + r + ["--name", "hot"])
        await #expect(first.stdout == "hot\t\(try oathtoolHOTP(Self.secret, counter: 5))\n", "\(first.stderr)")
        let second = try await card.ykman(["oath", "accounts", "code", "-s", "hot"])
        await #expect(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (try oathtoolHOTP(Self.secret, counter: 6)), "\(second.stderr)")
        let third = try await card.mfactl(["oath", "code"] + r + ["--name", "hot", "--json"])
        await #expect(third.stdout.contains("\"code\" : \"\(try oathtoolHOTP(Self.secret, counter: 7))\""))
        // Listing all codes does not advance HOTP.
        let all = try await card.mfactl(["oath", "code"] + r)
        #expect(all.stdout.contains("hot\t[HOTP: use --name]"))
        let fourth = try await card.mfactl(["oath", "code"] + r + ["--name", "hot"])
        await #expect(fourth.stdout == "hot\t\(try oathtoolHOTP(Self.secret, counter: 8))\n")
    }

    @Test("password: set by mfactl, used by ykman; wrong password is a clear error; cleared by ykman")
    func password() async throws {
        let card = try await VirtualCard()
        await #expect(try card.mfactl(["oath", "put"] + r + ["--name", "a", "--secret", Self.secret]).status == 0)
        let set = try await card.mfactl(["oath", "password", "set"] + r + ["--new-password", "correct horse"])
        #expect(set.status == 0, "\(set.stderr)")
        let locked = try await card.mfactl(["oath", "list"] + r)
        #expect(locked.status == 2 && locked.stderr.contains("password-protected"))
        let wrong = try await card.mfactl(["oath", "list"] + r + ["--password", "battery staple"])
        #expect(wrong.status == 2 && wrong.stderr.contains("wrong password"))
        let right = try await card.mfactl(["oath", "list"] + r + ["--password", "correct horse"])
        #expect(right.status == 0 && right.stdout.hasPrefix("a\t"))
        let viaEnv = try await card.mfactl(["oath", "list"] + r, environment: ["MFACTL_OATH_PASSWORD": "correct horse"])
        #expect(viaEnv.status == 0)
        // From a file (first line; out of `ps` and shell history); two sources or an unreadable file are refused.
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-oath-pw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        try Data("correct horse\nignored\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        let viaFile = try await card.mfactl(["oath", "list"] + r + ["--password-file", passwordFile])
        #expect(viaFile.status == 0 && viaFile.stdout.hasPrefix("a\t"), "\(viaFile.stderr)")
        let both = try await card.mfactl(["oath", "list"] + r + ["--password-file", passwordFile, "--password", "x"])
        #expect(both.status == 2 && both.stderr.contains("not both"), "\(both.stderr)")
        let missing = try await card.mfactl(["oath", "list"] + r + ["--password-file", passwordFile + ".missing"])
        #expect(missing.status == 2 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        let ykmanList = try await card.ykman(["oath", "accounts", "list", "-p", "correct horse"])
        #expect(ykmanList.status == 0 && ykmanList.stdout.contains("a"), "\(ykmanList.stderr)")
        let ykmanWrong = try await card.ykman(["oath", "accounts", "list", "-p", "nope"])
        #expect(ykmanWrong.status != 0)
        let clear = try await card.ykman(["oath", "access", "change", "-p", "correct horse", "--clear"])
        #expect(clear.status == 0, "\(clear.stderr)")
        await #expect(try card.mfactl(["oath", "list"] + r).status == 0)
        // And the other direction: ykman sets it, mfactl uses and clears it.
        await #expect(try card.ykman(["oath", "access", "change", "-n", "pw2"]).status == 0)
        await #expect(try card.mfactl(["oath", "list"] + r + ["--password", "pw2"]).status == 0)
        await #expect(try card.mfactl(["oath", "password", "clear"] + r + ["--password", "pw2"]).status == 0)
        await #expect(try card.ykman(["oath", "accounts", "list"]).status == 0)
    }

    @Test("rename, delete and reset agree between the two clients")
    func renameDeleteReset() async throws {
        let card = try await VirtualCard()
        await #expect(try card.mfactl(["oath", "put"] + r + ["--name", "Old:name", "--secret", Self.secret, "--period", "60"]).status == 0)
        let rename = try await card.mfactl(["oath", "rename"] + r + ["--name", "Old:name", "--new-name", "New:name"])
        #expect(rename.stdout.contains("renamed 60/Old:name to 60/New:name"), "\(rename.stderr)")
        await #expect(try card.ykman(["oath", "accounts", "list"]).stdout.contains("New:name"))
        await #expect(try card.ykman(["oath", "accounts", "delete", "-f", "New:name"]).status == 0)
        let gone = try await card.mfactl(["oath", "delete"] + r + ["--name", "New:name"])
        #expect(gone.status == 2 && gone.stderr.contains("no credential matches"))
        await #expect(try card.mfactl(["oath", "put"] + r + ["--name", "x", "--secret", Self.secret]).status == 0)
        await #expect(try card.mfactl(["oath", "reset"] + r).status == 2)  // needs --force
        await #expect(try card.mfactl(["oath", "reset", "--force"] + r).status == 0)
        await #expect(try card.ykman(["oath", "accounts", "list"]).stdout.isEmpty)
    }

    @Test("devices list shows the reader, the ATR and the OATH applet")
    func devicesList() async throws {
        let card = try await VirtualCard()
        let list = try await card.mfactl(["devices", "list", "--json"])
        #expect(list.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let devices = try #require(object["devices"] as? [[String: Any]])
        let reader = try #require(devices.first { $0["reader"] as? String == VirtualCard.reader })
        #expect(reader["cardPresent"] as? Bool == true)
        #expect((reader["atr"] as? String)?.hasPrefix("3b") == true)
        #expect((reader["oath"] as? [String: Any])?["version"] as? String != nil)
        _ = card
    }

    @Test("a touch credential that nobody touches is a clear 'touch the token' error")
    func touchTimeout() async throws {
        let card = try await VirtualCard(["--touch", "timeout"])
        await #expect(try card.mfactl(["oath", "put"] + r + ["--name", "t", "--secret", Self.secret, "--touch"]).status == 0)
        let all = try await card.mfactl(["oath", "code"] + r)
        #expect(all.stdout.contains("t\t[touch required: use --name]"))
        let one = try await card.mfactl(["oath", "code"] + r + ["--name", "t"])
        #expect(one.status == 2 && one.stderr.contains("touch the token"), "\(one.stderr)")
    }

    @Test("the card pulled out in the middle of a session is a clear error")
    func cardRemoved() async throws {
        let card = try await VirtualCard(["--remove-after", "1"])
        // SELECT passes, then the card disappears before LIST.
        let result = try await card.mfactl(["oath", "code"] + r + ["--name", "anything"])
        #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("removed") || result.stderr.contains("no card") || result.stderr.contains("does not respond"), "\(result.stderr)")
    }

    @Test("bridge enrollment: one command creates, programs, computes two codes on the card and enables; the card's codes then sign in",
          arguments: [false, true])
    func bridgeEnrollment(touch: Bool) async throws {
        let server = try await ServiceEndToEndTests.Server(.sqlite)
        let card = try await VirtualCard(touch ? ["--touch", "approve"] : [])
        let remote = ["--server", server.url, "--api-key", server.token]
        let enroll = try await card.mfactl(["enroll", "oath", "--user", "alice", "--name", "Example:alice", "--json"] + r + remote + (touch ? ["--touch"] : []))
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let serial = try #require((try JSONSerialization.jsonObject(with: Data(enroll.stdout.utf8)) as? [String: Any])?["serial"] as? String)
        #expect(serial.hasPrefix("C"))
        // ykman sees the credential; the device is active on the service.
        await #expect(try card.ykman(["oath", "accounts", "list"]).stdout.contains("Example:alice"))
        let devices = try await server.json(["mfa", "list", "--user", "alice"])["devices"] as? [[String: Any]]
        #expect(devices?.first?["state"] as? String == "active" && devices?.first?["kind"] as? String == "oath-card")
        // The next code, computed on the card, signs in once.
        let code = try await card.mfactl(["oath", "code"] + r + ["--name", "Example:alice", "--time", String(unixNow + 30), "--json"])
        let value = try #require(((try JSONSerialization.jsonObject(with: Data(code.stdout.utf8)) as? [String: Any])?["codes"] as? [[String: Any]])?.first?["code"] as? String)
        await #expect(try server.mfactl(["mfa", "verify", "--user", "alice", "--code", value]).status == 0)
        await #expect(try server.mfactl(["mfa", "verify", "--user", "alice", "--code", value]).status == 1)
    }

    @Test("reader events: a blocked wait sees the card arrive; task cancellation interrupts a wait (SCardCancel)")
    func readerEvents() async throws {
        try await VirtualCard.waitForCard(present: false)
        let client = try PCSCClient()
        defer { client.close() }
        let initial = try await client.perform { try $0.status(of: [VirtualCard.reader]) }
        #expect(initial.first?.cardPresent == false)
        let watcher = Task { try await client.perform { try $0.waitForChange(initial, timeoutMilliseconds: 20_000) } }
        try await Task.sleep(for: .milliseconds(200))
        let card = try await VirtualCard()
        let changed = try await watcher.value
        #expect(changed.first?.cardPresent == true && changed.first?.atr.first == 0x3B)
        let blocked = Task { try await client.perform { try $0.waitForChange(changed, timeoutMilliseconds: nil) } }
        try await Task.sleep(for: .milliseconds(300))
        blocked.cancel()
        await #expect(throws: PCSCError.cancelled) { try await blocked.value }
        await card.stop()
    }

    @Test("pcscd not running is a clear error")
    func noService() async throws {
        let result = try await TestTools.run(
            TestTools.product("mfactl"), ["oath", "list"], environment: ["PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"])
        #expect(result.status == 2 && result.stderr.contains("no smart card service (pcscd) running"))
    }

    @Test("reader choice: ambiguous and unknown names list the readers")
    func readerChoice() async throws {
        let ambiguous = try await TestTools.run(TestTools.product("mfactl"), ["oath", "list", "--reader", "virtual"])
        #expect(ambiguous.status == 2 && ambiguous.stderr.contains("matches 2 readers") && ambiguous.stderr.contains("Virtual PCD 00 01"))
        let unknown = try await TestTools.run(TestTools.product("mfactl"), ["oath", "list", "--reader", "nope"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no reader matches 'nope'"))
        let noCard = try await TestTools.run(TestTools.product("mfactl"), ["oath", "list", "--reader", "00 01"])
        #expect(noCard.status == 2 && noCard.stderr.contains("no card"), "\(noCard.stderr)")
    }

    static let hostileModes = ["truncatedTLV", "shortResponse", "oddStatus", "endlessChaining", "garbageTLV", "wrongDigits"]

    @Test("a hostile card (malformed TLVs, truncated responses, odd status words, endless chaining): typed errors, never a crash or hang",
          arguments: hostileModes)
    func hostileCard(mode: String) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: state) }
        do {
            let honest = try await VirtualCard(keepState: state)
            await #expect(try honest.mfactl(["oath", "put"] + r + ["--name", "c", "--secret", Self.secret]).status == 0)
            await honest.stop()
        }
        let card = try await VirtualCard(["--hostile", mode], keepState: state)
        var failures = 0
        for command in [["oath", "list"], ["oath", "code"], ["oath", "code", "--name", "c"], ["devices", "list"]] {
            let result = try await card.mfactl(command + (command[0] == "oath" ? r : []))
            #expect(!result.signaled, "\(mode): mfactl \(command) died of a signal: \(result.stderr)")
            #expect(result.status == 0 || result.status == 2, "\(mode): mfactl \(command) exit \(result.status)")
            #expect(!result.stderr.contains("Fatal error"), "\(mode): \(result.stderr)")
            if result.status == 2 {
                failures += 1
                #expect(result.stderr.hasPrefix("error: "), "\(mode): \(result.stderr)")
            }
        }
        #expect(failures > 0, "\(mode): a hostile card should make some command fail with a typed error")
    }
}
