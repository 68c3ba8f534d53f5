import Foundation
import OTP
import TestSupport
import Testing

/// `mfactl enroll hid-hotp` and `enroll hid-yubiotp` end to end: the virtual YubiKey under umockdev
/// (real libusb), the service locally on SQLite (`--db`) or as a live `mfactl serve` (`--server`),
/// then a code typed by the key signs in through `mfa verify`, once.
@Suite("HID enrollment: virtual YubiKey + service (local and remote)", .serialized)
struct HIDEnrollmentTests {
    /// Where the service runs: a local SQLite store, or a `mfactl serve` process on loopback.
    struct Target: @unchecked Sendable {
        let arguments: [String]
        /// Keeps the server process alive for the test.
        let server: ServiceEndToEndTests.Server?
        let directory: URL

        static func make(remote: Bool) async throws -> Target {
            if remote {
                let server = try await ServiceEndToEndTests.Server(.sqlite)
                return Target(arguments: ["--server", server.url, "--api-key", server.token], server: server, directory: server.directory)
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-hid-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let db = "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path
            return Target(arguments: ["--db", db, "--key-file", directory.appendingPathComponent("vault.key").path], server: nil, directory: directory)
        }

        /// `mfactl arguments` against this service (no USB); the wait holds no thread of the cooperative pool.
        func mfactl(_ arguments: [String]) async throws -> ProcessResult {
            let all = arguments + self.arguments
            return try await TestTools.run(TestTools.product("mfactl"), all, timeout: 60)
        }

        func remove() {
            if server == nil { try? FileManager.default.removeItem(at: directory) }
        }
    }

    static func json(_ text: String) async -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    @Test("enroll hid-hotp: one command creates, programs the slot, captures two typed codes and enables; the next typed code signs in once",
          arguments: [false, true])
    func hotp(remote: Bool) async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let target = try await Target.make(remote: remote)
        defer { target.remove() }
        let digits = remote ? 8 : 6
        let slot = remote ? "2" : "1"
        let enroll = try await key.mfactl(
            ["enroll", "hid-hotp", "--user", "hiro", "--slot", slot, "--digits", String(digits), "--json"] + target.arguments,
            options: ["--touch", slot, "--touches", "2"])
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let object = await Self.json(enroll.stdout)
        let serial = try #require(object["serial"] as? String, "\(enroll.stdout)")
        #expect(serial.hasPrefix("H") && object["kind"] as? String == "hid-slot" && object["slot"] as? Int == Int(slot))
        #expect(object["digits"] as? Int == digits && object["device"] as? String == "1050:0407")
        #expect(!enroll.stdout.lowercased().contains("secret") && enroll.stderr.contains("touch the key"))
        let listed = await Self.json(try await target.mfactl(["mfa", "list", "--user", "hiro", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(listed?.count == 1 && listed?.first?["state"] as? String == "active" && listed?.first?["kind"] as? String == "hid-slot")
        #expect(listed?.first?["counter"] as? Int == 2, "the enabling codes were counters 0 and 1")
        // The key types the next code (counter 2) on the next touch.
        let typed = try await key.mfactl(["hid", "capture", "--slot", slot, "--json"], options: ["--touch", slot])
        let code = try #require(VirtualYubiKey.json(typed)["otp"] as? String, "\(typed.stderr)")
        #expect(code.count == digits)
        let first = try await target.mfactl(["mfa", "verify", "--user", "hiro", "--code", code])
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        let replay = try await target.mfactl(["mfa", "verify", "--user", "hiro", "--code", code])
        #expect(replay.status == 1, "\(replay.stdout) \(replay.stderr)")
        let report = try key.lastReport()
        #expect((report["drivers"] as? [String: Any])?["0"] as? String == "usbhid", "keyboard driver re-attached: \(report)")
    }

    @Test("enroll hid-yubiotp: the service generates the ids and key, the slot is programmed, one typed OTP enables; the next OTP signs in once",
          arguments: [false, true])
    func yubicoOTP(remote: Bool) async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let target = try await Target.make(remote: remote)
        defer { target.remove() }
        let enroll = try await key.mfactl(
            ["enroll", "hid-yubiotp", "--user", "yoko", "--slot", "1", "--json"] + target.arguments, options: ["--touch", "1"])
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let object = await Self.json(enroll.stdout)
        let publicID = try #require(object["publicId"] as? String, "\(enroll.stdout)")
        #expect(object["serial"] as? String == publicID && publicID.count == 12 && Modhex.isModhex(publicID))
        #expect(object["kind"] as? String == "yubico-otp")
        #expect(Set(object.keys) == ["serial", "user", "kind", "slot", "publicId", "device"], "no key material in the output: \(object.keys)")
        let listed = await Self.json(try await target.mfactl(["mfa", "list", "--user", "yoko", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(listed?.count == 1 && listed?.first?["state"] as? String == "active" && listed?.first?["kind"] as? String == "yubico-otp")
        // The key was powered up again: the next OTP has a higher usage counter.
        let typed = try await key.mfactl(["hid", "capture", "--slot", "1", "--json"], options: ["--touch", "1"])
        let otp = try #require(VirtualYubiKey.json(typed)["otp"] as? String, "\(typed.stderr)")
        #expect(otp.count == 44 && otp.hasPrefix(publicID))
        let first = try await target.mfactl(["mfa", "verify", "--user", "yoko", "--code", otp])
        #expect(first.status == 0 && first.stdout.contains(publicID), "\(first.stdout) \(first.stderr)")
        let replay = try await target.mfactl(["mfa", "verify", "--user", "yoko", "--code", otp])
        #expect(replay.status == 1, "\(replay.stdout) \(replay.stderr)")
        // Another touch in the same power-up: the session counter moves on, and it signs in.
        let next = try await key.mfactl(["hid", "capture", "--slot", "1", "--json"], options: ["--touch", "1"])
        let otp2 = try #require(VirtualYubiKey.json(next)["otp"] as? String, "\(next.stderr)")
        #expect(try await target.mfactl(["mfa", "verify", "--user", "yoko", "--code", otp2]).status == 0)
        #expect(try await target.mfactl(["mfa", "verify", "--user", "yoko", "--code", otp]).status == 1)
    }

    @Test("an enrollment nobody touches fails cleanly: the slot is erased and the pending device deleted")
    func untouched() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let target = try await Target.make(remote: false)
        defer { target.remove() }
        let enroll = try await key.mfactl(["enroll", "hid-yubiotp", "--user", "nobody", "--slot", "2", "--timeout", "1"] + target.arguments)
        #expect(enroll.status == 2 && enroll.stderr.contains("nothing was typed"), "\(enroll.stderr)")
        let listed = await Self.json(try await target.mfactl(["mfa", "list", "--user", "nobody", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(listed?.isEmpty == true, "\(String(describing: listed))")
        let status = try VirtualYubiKey.json(try await key.mfactl(["hid", "status", "--json"]))
        #expect((status["slots"] as? [[String: Any]])?.allSatisfy { $0["configured"] as? Bool == false } == true, "\(status)")
    }

    @Test("no key connected: enroll fails before a device exists (nothing pending counts toward the user's limit)")
    func noKey() async throws {
        let target = try await Target.make(remote: false)
        defer { target.remove() }
        for kind in ["hid-hotp", "hid-yubiotp"] {
            // Outside the umockdev testbed there is no USB token at all.
            let enroll = try await target.mfactl(["enroll", kind, "--user", "nokey", "--slot", "1"])
            #expect(enroll.status != 0 && !enroll.stderr.isEmpty, "\(kind): \(enroll.stdout) \(enroll.stderr)")
        }
        let listed = await Self.json(try await target.mfactl(["mfa", "list", "--user", "nokey", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(listed?.isEmpty == true, "\(String(describing: listed))")
        let audit = try await target.mfactl(["audit", "list", "--json"])
        #expect(!audit.stdout.contains("nokey"), "nothing was created, so nothing was deleted either: \(audit.stdout)")
    }

    @Test("a slot already programmed is refused before a device exists; --force says it overwrites it and enrolls")
    func programmedSlot() async throws {
        let key = try VirtualYubiKey()
        defer { key.remove() }
        let target = try await Target.make(remote: false)
        defer { target.remove() }
        let programmed = try await key.mfactl(["hid", "program-hotp", "--slot", "1", "--secret-hex", "3132333435363738393031323334353637383930"])
        #expect(programmed.status == 0, "\(programmed.stderr)")
        let refused = try await key.mfactl(["enroll", "hid-hotp", "--user", "kept", "--slot", "1"] + target.arguments, options: ["--touch", "1", "--touches", "2"])
        #expect(refused.status != 0 && refused.stderr.contains("already programmed") && refused.stderr.contains("--force"), "\(refused.stderr)")
        let none = await Self.json(try await target.mfactl(["mfa", "list", "--user", "kept", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(none?.isEmpty == true, "\(String(describing: none))")
        // The slot still types the old seed's first code (RFC 4226's counter 0: 755224).
        let typed = try await key.mfactl(["hid", "capture", "--slot", "1", "--json"], options: ["--touch", "1"])
        #expect(try VirtualYubiKey.json(typed)["otp"] as? String == "755224", "\(typed.stdout) \(typed.stderr)")
        let forced = try await key.mfactl(
            ["enroll", "hid-hotp", "--user", "kept", "--slot", "1", "--force"] + target.arguments, options: ["--touch", "1", "--touches", "2"])
        #expect(forced.status == 0 && forced.stderr.contains("overwriting slot 1"), "\(forced.stderr)")
        let listed = await Self.json(try await target.mfactl(["mfa", "list", "--user", "kept", "--json"]).stdout)["devices"] as? [[String: Any]]
        #expect(listed?.count == 1 && listed?.first?["state"] as? String == "active", "\(String(describing: listed))")
    }
}
