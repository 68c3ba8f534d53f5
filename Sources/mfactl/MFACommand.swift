import ArgumentParser
import Foundation
import MFA
import MFAServer
import OTP
import QRCode

/// `mfactl mfa …`: enrollment, sign-in checks and technician work, on the local store or a server.
struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa", abstract: "Enroll, enable, verify, resync and manage MFA devices.",
        subcommands: [CreateVirtual.self, Register.self, Enable.self, Verify.self, Resync.self, Diagnose.self, Deactivate.self, Delete.self, Unlock.self, List.self])

    struct CreateVirtual: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-virtual", abstract: "Create a virtual TOTP device; the seed is shown once.",
            discussion: """
                Defaults (SHA-1, 6 digits, 30 s) are what every authenticator app shows correctly; some apps \
                (Google Authenticator among them) ignore other algorithms or periods and show wrong codes, so \
                check the app before choosing others. A SHA-256 or SHA-512 device gets a seed as long as the hash.
                """)
        @OptionGroup var backend: BackendOptions
        @Option(help: "User name.") var user: String
        @Option(help: "Issuer shown in authenticator apps.") var issuer: String?
        @Option(help: "Code length: 6, 7 or 8.") var digits: Int = 6
        @Option(help: "HMAC hash: sha1, sha256 or sha512.") var algorithm: String = "sha1"
        @Option(help: "Seconds per code, 1 to 3600.") var period: Int64 = 30
        @Option(help: "Also show the otpauth URI as a QR code: terminal, or png:FILE (written 0600); repeat for both.") var qr: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let algorithm: HashAlgorithm
                do { algorithm = try HashAlgorithm(parsing: self.algorithm) } catch { throw CLIError("--algorithm must be sha1, sha256 or sha512") }
                guard (6...8).contains(digits) else { throw CLIError("--digits must be 6, 7 or 8") }
                guard (1...3_600).contains(period) else { throw CLIError("--period must be 1 to 3600 seconds") }
                for target in qr where target != "terminal" && !target.hasPrefix("png:") { throw CLIError("--qr must be terminal or png:FILE, got \(target)") }
                // Every PNG's place is checked before a device exists (a device whose seed nobody saw is debris).
                let pngs = qr.compactMap { $0.hasPrefix("png:") ? String($0.dropFirst("png:".count)) : nil }
                guard Set(pngs).count == pngs.count else { throw CLIError("--qr names the same PNG file twice") }
                for png in pngs { try Self.checkWritable(png) }
                let service = try await backend.backend()
                let created = try await service.createVirtual(user: user, issuer: issuer, digits: digits, algorithm: algorithm, period: period)
                if !qr.isEmpty {
                    var written: [String] = []
                    do {
                        let code = try QRCode(encoding: created.uri)
                        if qr.contains("terminal") { FileHandle.standardError.write(Data((code.terminalString() + "\n").utf8)) }
                        for png in pngs {
                            try code.writePNG(to: png)
                            written.append(png)
                        }
                    } catch {
                        // All or nothing: the device goes again, so the seed shown nowhere is in no store.
                        for png in written { try? FileManager.default.removeItem(atPath: png) }
                        try? await service.delete(serial: created.serial)
                        throw CLIError("the QR code could not be written (\(error)); device \(created.serial) was deleted again")
                    }
                }
                if json { try CLIOutput.printJSON(created); return }
                print("serial: \(created.serial)")
                print("secret: \(created.secret)   (shown once: add it to the authenticator now)")
                print("uri:    \(created.uri)")
                print("codes:  \(digits) digits every \(period) s, \(algorithm.rawValue.uppercased())")
                for png in pngs { print("qr:     \(png)") }
                print("then:   mfactl mfa enable --user \(user) --serial \(created.serial) --code1 CODE --code2 NEXT_CODE")
            }
        }

        /// `path` can be created: its directory exists and is writable, and nothing is there yet.
        static func checkWritable(_ path: String) throws {
            guard !path.isEmpty else { throw CLIError("--qr png: needs a file name") }
            let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("--qr png:\(path): the directory \(directory) does not exist; nothing was created")
            }
            guard access(directory, W_OK) == 0 else { throw CLIError("--qr png:\(path): the directory \(directory) is not writable; nothing was created") }
            guard !FileManager.default.fileExists(atPath: path) else { throw CLIError("--qr png:\(path) exists; name a new file (nothing was created)") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Activate a pending (or assign an inventory) device with two consecutive codes (a yubico-otp device: one OTP).")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The user the device is for (exact bytes).") var user: String
        @Option(help: "The device serial.") var serial: String
        @Option(help: "A code from the device.") var code1: String?
        @Option(help: "The code after it (the next step, or the next counter).") var code2: String?
        @Option(help: "One OTP typed by a yubico-otp device (instead of --code1 and --code2).") var otp: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (code1 != nil && code2 != nil && otp == nil) || (code1 == nil && code2 == nil && otp != nil) else {
                throw ValidationError("give --code1 and --code2, or --otp for a yubico-otp device")
            }
        }

        func run() async throws {
            try await CLIOutput.run {
                if let otp {
                    try await backend.backend().enable(serial: serial, user: user, otp: otp)
                } else if let code1, let code2 {
                    try await backend.backend().enable(serial: serial, user: user, code1: code1, code2: code2)
                }
                if json { try CLIOutput.printJSON(["serial": serial, "user": user, "status": "active"]) } else { print("\(serial) is active for \(user)") }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a sign-in code: exit 0 accepted, 1 rejected.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The user signing in (exact bytes).") var user: String
        @Option(help: "The code the user typed.") var code: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var accepted = false
            try await CLIOutput.run {
                let result = try await backend.backend().verify(user: user, code: code)
                accepted = result.result == "accepted"
                if json { try CLIOutput.printJSON(result) } else { print(accepted ? "accepted (\(result.serial ?? ""))" : "rejected") }
            }
            if !accepted { throw ExitCode(1) }
        }
    }

    struct Resync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resynchronize a drifted device with two consecutive codes.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The device's user (exact bytes).") var user: String
        @Option(help: "The device serial.") var serial: String
        @Option(help: "A code the device shows now.") var code1: String
        @Option(help: "The code after it (wait for the next one, or press again).") var code2: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                try await backend.backend().resync(serial: serial, user: user, code1: code1, code2: code2)
                if json { try CLIOutput.printJSON(["serial": serial, "status": "resynchronized"]) } else { print("\(serial) resynchronized") }
            }
        }
    }

    struct Diagnose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where does this code fall for the device? Changes nothing.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The device serial.") var serial: String
        @Option(help: "The code the device shows (or the user typed).") var code: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let d = try await backend.backend(readOnly: true).diagnose(serial: serial, code: code)
                if json { try CLIOutput.printJSON(d); return }
                // What a sign-in checks first: the device's state, then the replay watermark.
                var state = "\(serial): \(d.state?.rawValue ?? "unknown")"
                if let until = d.lockedUntil { state += " until \(CLIOutput.isoTime(until))" }
                if let failures = d.failureCount, failures > 0 { state += " (\(failures) failures)" }
                state += d.watermark.map { ", last accepted step/counter \($0)" } ?? ", no code accepted yet"
                print(state)
                let usable = d.state == .active || (d.state == .locked && (d.lockedUntil ?? .max) <= Int64(Date().timeIntervalSince1970))
                guard d.found else { print("\(serial): the code is not within the sync window"); return }
                if d.aheadOfSignInWindow {
                    print("\(serial): the code is ahead of the sign-in window (the token runs ahead: resync it)")
                    return
                }
                var text = "\(serial): offset \(d.offset ?? 0)"
                if let seconds = d.offsetSeconds { text += " steps (\(seconds) s)" }
                if d.withinSignInWindow {
                    text += ", a sign-in would accept it now"
                } else if !usable {
                    text += ", but a sign-in rejects every code while the device is \(d.state?.rawValue ?? "unusable")"
                } else if d.alreadyUsed {
                    text += ", already used: a sign-in rejects it as a replay (the token's next code will do)"
                } else {
                    text += ", outside the sign-in window (resync?)"
                }
                print(text)
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a device from signing in (kept for the record; delete removes it). Already deactivated: success, nothing changed.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The device serial.") var serial: String
        @Flag(help: "Print JSON ({serial, status: deactivated or unchanged}).") var json = false
        func run() async throws {
            try await CLIOutput.run {
                let changed = try await backend.backend().deactivate(serial: serial)
                if json { try CLIOutput.printJSON(["serial": serial, "status": changed ? "deactivated" : "unchanged"]); return }
                print(changed ? "\(serial) deactivated" : "\(serial) was already deactivated (nothing changed)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a device that is not active (deactivate an active or virtual one first).")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The device serial.") var serial: String
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIOutput.run {
                try await backend.backend().delete(serial: serial)
                if json { try CLIOutput.printJSON(["serial": serial, "status": "deleted"]) } else { print("\(serial) deleted") }
            }
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a lock and clear the failure count. Not locked: success, nothing changed.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The device serial.") var serial: String
        @Flag(help: "Print JSON ({serial, status: unlocked or unchanged}).") var json = false
        func run() async throws {
            try await CLIOutput.run {
                let changed = try await backend.backend().unlock(serial: serial)
                if json { try CLIOutput.printJSON(["serial": serial, "status": changed ? "unlocked" : "unchanged"]); return }
                print(changed ? "\(serial) unlocked" : "\(serial) is not locked (nothing changed)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A user's devices, or every user's devices in one state (--state pending: enrollments not yet enabled, with their expiry).")
        @OptionGroup var backend: BackendOptions
        @Option(help: "The user whose devices to list.") var user: String?
        @Option(help: "Only devices in this state (\(DeviceState.allNames)); without --user, across all users.") var state: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard user != nil || state != nil else { throw ValidationError("give --user, --state, or both") }
            if let state, DeviceState(rawValue: state) == nil { throw ValidationError("--state must be \(DeviceState.allNames)") }
        }

        func run() async throws {
            try await CLIOutput.run {
                let service = try await backend.backend(readOnly: true)
                let wanted = state.flatMap(DeviceState.init(rawValue:))
                var devices: [DeviceView]
                if let user {
                    devices = try await service.devices(user: user)
                    if let wanted { devices = devices.filter { $0.state == wanted.rawValue } }
                } else {
                    devices = try await service.devices(state: wanted ?? .pending, assignment: .any)
                }
                if json { try CLIOutput.printJSON(DeviceListOutput(devices: devices)); return }
                DeviceListOutput(devices: devices).printTable()
            }
        }
    }
}
