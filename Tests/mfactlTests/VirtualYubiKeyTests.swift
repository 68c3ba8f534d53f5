import Foundation
import TestSupport
import Testing
import OTP
import TokenDevices

/// mfactl with real libusb against a virtual YubiKey emulated by umockdev (Python IoctlBase handler):
/// enumeration, status, programming every slot type, challenge-response checked against openssl's
/// HMAC, typed HOTP codes against oathtool, typed Yubico OTPs decoded and validated, and hostile
/// devices that must give typed errors, never hangs or crashes.
@Suite("YubiKey OTP over libusb: virtual key under umockdev", .serialized)
struct VirtualYubiKeyTests {
    static let hmacKey = "303132333435363738393a3b3c3d3e3f40414243"

    @Test("hid list and devices list enumerate the key with its catalog entry and strings")
    func enumerate() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let list = try await key.mfactl(["hid", "list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let tokens = try #require(try VirtualYubiKey.json(list)["tokens"] as? [[String: Any]])
        let token = try #require(tokens.first)
        #expect(token["id"] as? String == "1050:0407")
        #expect(token["vendor"] as? String == "Yubico")
        #expect(token["interfaces"] as? [String] == ["OTP", "FIDO", "CCID"])
        #expect(token["product"] as? String == "YubiKey OTP+FIDO+CCID")
        #expect(token["manufacturer"] as? String == "Yubico")
        let devices = try await key.mfactl(["devices", "list", "--json"])
        #expect(devices.status == 0, "\(devices.stderr)")
        #expect(devices.stdout.contains("\"model\" : \"YubiKey 4/5 OTP+FIDO+CCID\""), "\(devices.stdout)")
    }

    @Test("hotplug: the key unplugged and plugged back in is seen leaving and arriving (libusb callbacks, and the polling fallback)",
          arguments: [false, true])
    func hotplug(poll: Bool) async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let watch = try await key.mfactl(["hid", "watch", "--events", "3", "--timeout", "20", "--json"] + (poll ? ["--poll"] : []),
                                         options: ["--replug-after", "1.5"])
        #expect(watch.status == 0, "\(watch.stdout) \(watch.stderr)")
        let events = watch.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(events.map { $0["event"] as? String } == ["arrived", "left", "arrived"], "\(watch.stdout)")
        #expect(events.allSatisfy { ($0["token"] as? [String: Any])?["id"] as? String == "1050:0407" }, "\(watch.stdout)")
        // Nothing happening is a clear timeout, not a hang.
        let quiet = try await key.mfactl(["hid", "watch", "--events", "2", "--timeout", "1"] + (poll ? ["--poll"] : []))
        #expect(quiet.status == 2 && quiet.stderr.contains("timed out"), "\(quiet.stdout) \(quiet.stderr)")
    }

    @Test("status: firmware, serial, empty slots; the keyboard driver is back afterwards")
    func status() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let status = try await key.mfactl(["hid", "status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let object = try VirtualYubiKey.json(status)
        #expect(object["firmware"] as? String == "5.4.3")
        #expect(object["serial"] as? Int == 12_345_678)
        #expect((object["slots"] as? [[String: Any]])?.allSatisfy { $0["configured"] as? Bool == false } == true)
        let report = try key.lastReport()
        #expect((report["drivers"] as? [String: Any])?["0"] as? String == "usbhid", "usbhid re-attached: \(report)")
        #expect(report["detaches"] as? Int ?? 0 >= 1)
        #expect(report["attaches"] as? Int == report["detaches"] as? Int)
        #expect((report["unknown_ioctls"] as? [Any])?.isEmpty == true, "\(report)")
    }

    @Test("HMAC-SHA1 challenge-response equals openssl's HMAC for challenges of many lengths and last bytes")
    func challengeResponse() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let program = try await key.mfactl(["hid", "program-chalresp", "--slot", "2", "--secret-hex", Self.hmacKey])
        #expect(program.status == 0 && program.stdout.contains("slot 2 programmed"), "\(program.stderr)")
        var generator = SeededGenerator(seed: SeededGenerator.seedFromEnvironment())
        var challenges = ["00", "ff", "0000", "616263", String(repeating: "ab", count: 32) + "00", String(repeating: "5a", count: 62) + "01"]
        for length in [1, 8, 20, 32, 63] {
            challenges.append((0..<length).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined())
        }
        for challenge in challenges {
            let answer = try await key.mfactl(["hid", "chalresp", "--slot", "2", "--challenge", challenge])
            #expect(answer.status == 0, "\(challenge): \(answer.stderr)")
            let expected = try await VirtualYubiKey.opensslHMAC(keyHex: Self.hmacKey, messageHex: challenge)
            #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "challenge \(challenge) (seed \(generator.state))")
        }
        let status = try VirtualYubiKey.json(try await key.mfactl(["hid", "status", "--json"]))
        let slots = try #require(status["slots"] as? [[String: Any]])
        #expect(slots[1]["configured"] as? Bool == true && slots[1]["touchTriggered"] as? Bool == false)
    }

    @Test("a touch-triggered challenge-response answers after the touch, and times out when nobody touches")
    func touchChallenge() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        #expect(try await key.mfactl(["hid", "program-chalresp", "--slot", "1", "--secret-hex", Self.hmacKey, "--touch"]).status == 0)
        let answer = try await key.mfactl(["hid", "chalresp", "--slot", "1", "--challenge", "c0ffee", "--json"])
        #expect(answer.status == 0, "\(answer.stderr)")
        #expect(try VirtualYubiKey.json(answer)["response"] as? String == (try await VirtualYubiKey.opensslHMAC(keyHex: Self.hmacKey, messageHex: "c0ffee")))
        let started = Date()
        let stuck = try await key.mfactl(["hid", "chalresp", "--slot", "1", "--challenge", "c0ffee", "--timeout", "1"], options: ["--mode", "stuck-touch"])
        #expect(stuck.status == 2 && stuck.stderr.contains("touch"), "\(stuck.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test("HOTP slots type the codes oathtool computes, counter after counter (6 and 8 digits)")
    func hotpTyping() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let program = try await key.mfactl(["hid", "program-hotp", "--slot", "1", "--secret-hex", Self.hmacKey, "--counter", "32"])
        #expect(program.status == 0, "\(program.stderr)")
        for counter in 32..<35 {
            let typed = try await key.mfactl(["hid", "capture", "--slot", "1", "--timeout", "10"], options: ["--touch", "1"])
            #expect(typed.status == 0, "\(typed.stderr)")
            #expect(typed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (try await VirtualYubiKey.oathtoolHOTP(keyHex: Self.hmacKey, counter: counter, digits: 6)))
        }
        #expect(try await key.mfactl(["hid", "program-hotp", "--slot", "2", "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--digits", "8"]).status == 0)
        let typed = try await key.mfactl(["hid", "capture", "--slot", "2", "--json"], options: ["--touch", "2"])
        let otp = try VirtualYubiKey.json(typed)["otp"] as? String
        #expect(otp == (try await VirtualYubiKey.oathtoolHOTP(keyHex: "3132333435363738393031323334353637383930", counter: 0, digits: 8)), "\(typed.stderr)")
        let report = try key.lastReport()
        #expect((report["drivers"] as? [String: Any])?["0"] as? String == "usbhid", "keyboard driver re-attached after capture: \(report)")
    }

    @Test("a Yubico OTP slot types OTPs that decrypt and validate, with increasing counters")
    func yubicoOTPTyping() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let aes = "c4422890653076cde73d449b191b416a", privateID = "33c69e7f249e", publicID = "vvcccbhkbhve"
        let program = try await key.mfactl(
            ["hid", "program-yubiotp", "--slot", "1", "--public-id", publicID, "--private-id", privateID, "--key", aes])
        #expect(program.status == 0, "\(program.stderr)")
        var last: (usage: UInt16, session: UInt8)? = nil
        for _ in 0..<3 {
            let typed = try await key.mfactl(["hid", "capture", "--slot", "1", "--aes-key", aes, "--private-id", privateID, "--json"], options: ["--touch", "1"])
            #expect(typed.status == 0, "\(typed.stderr)")
            let object = try VirtualYubiKey.json(typed)
            let otp = try #require(object["otp"] as? String)
            #expect(otp.count == 44 && otp.hasPrefix(publicID))
            #expect(object["publicID"] as? String == publicID)
            let token = try YubicoOTP.validate(
                otp, key: Array(Data(hexString: aes)), privateID: Array(Data(hexString: privateID)),
                publicID: try Modhex.decode(publicID), last: last)
            last = (token.usageCounter, token.sessionCounter)
        }
        #expect(last?.usage == 3)
    }

    @Test("delete-slot empties a slot; access codes protect it")
    func deleteAndAccessCodes() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        #expect(try await key.mfactl(["hid", "program-chalresp", "--slot", "1", "--secret-hex", Self.hmacKey, "--new-access-code", "010203040506"]).status == 0)
        let refused = try await key.mfactl(["hid", "program-chalresp", "--slot", "1", "--secret-hex", Self.hmacKey])
        #expect(refused.status == 2 && refused.stderr.contains("did not accept"), "\(refused.stderr)")
        let wrong = try await key.mfactl(["hid", "delete-slot", "--slot", "1", "--access-code", "060504030201"])
        #expect(wrong.status == 2, "\(wrong.stderr)")
        let deleted = try await key.mfactl(["hid", "delete-slot", "--slot", "1", "--access-code", "010203040506"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let status = try VirtualYubiKey.json(try await key.mfactl(["hid", "status", "--json"]))
        #expect(status["programmingSequence"] as? Int == 0)
        #expect((status["slots"] as? [[String: Any]])?.allSatisfy { $0["configured"] as? Bool == false } == true)
        let none = try await key.mfactl(["hid", "chalresp", "--slot", "1", "--challenge", "00"])
        #expect(none.status == 2 && none.stderr.contains("no response"), "\(none.stderr)")
    }

    @Test("hostile keys give typed errors, never hangs or crashes", arguments: [
        ("bad-crc", ["hid", "chalresp", "--slot", "2", "--challenge", "0102"], "CRC"),
        ("short-report", ["hid", "status"], "short"),
        ("stuck-write", ["hid", "chalresp", "--slot", "2", "--challenge", "0102"], "write flag"),
        ("unplug", ["hid", "chalresp", "--slot", "2", "--challenge", "0102"], "no such device"),
        ("out-of-order", ["hid", "chalresp", "--slot", "2", "--challenge", "0102"], "out of order"),
        ("type-partial", ["hid", "capture", "--timeout", "2"], "before Enter"),
        ("type-garbage", ["hid", "capture", "--timeout", "2"], "not text"),
    ])
    func hostile(mode: String, command: [String], message: String) async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let setup = mode.hasPrefix("type")
            ? ["hid", "program-hotp", "--slot", "1", "--secret-hex", Self.hmacKey]
            : ["hid", "program-chalresp", "--slot", "2", "--secret-hex", Self.hmacKey]
        #expect(try await key.mfactl(setup).status == 0)
        let started = Date()
        let result = try await key.mfactl(command, options: ["--mode", mode, "--touch", "1"])
        #expect(!result.signaled, "\(mode): \(result.stderr)")
        #expect(result.status == 2, "\(mode): exit \(result.status) \(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("error: ") && result.stderr.contains(message), "\(mode): \(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "\(mode) took too long")
    }

    @Test("capture without a touch times out with a clear message")
    func captureTimeout() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let result = try await key.mfactl(["hid", "capture", "--timeout", "1"])
        #expect(result.status == 2 && result.stderr.contains("nothing was typed"), "\(result.stderr)")
    }
}
