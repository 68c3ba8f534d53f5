import ArgumentParser
import Foundation
import MFA
import OTP
import TokenDevices

/// The slot of a YubiKey to enroll, and its access code.
struct EnrollSlotOptions: ParsableArguments {
    @Option(help: "1 or 2 (slot 1 types on a short touch, slot 2 on a long one).") var slot: Int
    @Option(name: .customLong("access-code"), help: "The slot's current access code (6 bytes hex), if it has one.") var accessCode: String?
    @Flag(help: "Overwrite a slot that is already programmed (what it holds now is lost).") var force = false

    func validate() throws {
        guard slot == 1 || slot == 2 else { throw ValidationError("--slot must be 1 or 2") }
    }

    var yubiSlot: YubiOTPSlot { YubiOTPSlot(rawValue: slot) ?? .one }

    func accessCodeBytes() throws -> [UInt8]? {
        guard let accessCode else { return nil }
        let bytes = try Hex.decode(accessCode)
        guard bytes.count == 6 else { throw CLIError("--access-code must be 6 bytes") }
        return bytes
    }

    var touchHint: String { slot == 1 ? "short touch" : "long touch (2-3 s)" }
}

/// What `enroll hid-hotp` and `enroll hid-yubiotp` print with `--json` (never a secret).
struct EnrollHIDOutput: Encodable {
    let serial: String
    let user: String
    let kind: String
    let slot: Int
    let digits: Int?
    let publicId: String?
    let device: String
}

/// Checks what can be checked before a device exists: the access code's form, that a key with an OTP
/// interface answers, and that the slot is empty (or `force` says what it overwrites). Returns the
/// access code's bytes.
func precheckHIDSlot(hid: HIDDeviceOptions, slot: EnrollSlotOptions) throws -> [UInt8]? {
    let access = try slot.accessCodeBytes()
    let configured = try hid.withSession { session, _ in session.status.isConfigured(slot.yubiSlot) }
    guard configured else { return access }
    guard slot.force else {
        throw CLIError("slot \(slot.slot) of the key is already programmed; --force overwrites it (what it holds now is lost)")
    }
    FileHandle.standardError.write(Data("overwriting slot \(slot.slot) of the key (--force)\n".utf8))
    return access
}

/// Creates the pending device (`create`), programs the configuration it yields into the slot, runs
/// `capture` (reading what the key types), then `enable`. The key and slot are checked before
/// anything is created; on any failure after that, the slot is erased and the pending device
/// deleted, so nothing is left half-enrolled.
func enrollHIDSlot<Created: Sendable>(
    backend: any Backend, hid: HIDDeviceOptions, slot: EnrollSlotOptions,
    create: () async throws -> (created: Created, serial: String),
    configuration: (Created) throws -> YubiOTPSlotConfiguration,
    capture: () throws -> [String], enable: (Created, [String]) async throws -> Void
) async throws -> (created: Created, device: String) {
    let access = try precheckHIDSlot(hid: hid, slot: slot)
    let (created, serial) = try await create()
    var programmed = false
    do {
        let slotConfiguration = try configuration(created)
        let device = try hid.withSession { session, info in
            try session.configure(slot.yubiSlot, slotConfiguration, accessCode: access)
            return info.id
        }
        programmed = true
        try await enable(created, try capture())
        return (created, device)
    } catch {
        if programmed { try? hid.withSession { session, _ in try session.deleteSlot(slot.yubiSlot, accessCode: access) } }
        try? await backend.delete(serial: serial)
        throw error
    }
}

/// Reads `count` lines typed by the key (one touch each), with a prompt on stderr.
func captureTyped(_ count: Int, hid: HIDDeviceOptions, slot: EnrollSlotOptions) throws -> [String] {
    var lines: [String] = []
    for index in 0..<count {
        let prompt = count == 1 ? "" : " (\(index + 1) of \(count))"
        FileHandle.standardError.write(Data("touch the key: \(slot.touchHint) for slot \(slot.slot)\(prompt)\n".utf8))
        let timeout = hid.touchTimeout
        lines.append(try hid.withHandle { handle in try TypedOTPCapture.capture(handle, timeout: timeout) })
    }
    return lines
}

extension EnrollCommand {
    /// `mfactl enroll hid-hotp`: an OATH-HOTP slot of a YubiKey, seeded by the service.
    struct HIDHOTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hid-hotp",
            abstract: "Create a pending hid-slot device, program its seed into a YubiKey slot (OATH-HOTP, counter 0), capture two codes the key types, enable.")
        @OptionGroup var backend: BackendOptions
        @OptionGroup var hid: HIDDeviceOptions
        @OptionGroup var slot: EnrollSlotOptions
        @Option(help: "The user the token is enrolled for (exact bytes).") var user: String
        @Option(help: "6 or 8.") var digits = 6
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard digits == 6 || digits == 8 else { throw ValidationError("--digits must be 6 or 8 (what a YubiKey HOTP slot types)") }
        }

        func run() async throws {
            try await CLIOutput.run {
                let service = try await backend.backend()
                let (created, device) = try await enrollHIDSlot(
                    backend: service, hid: hid, slot: slot,
                    create: {
                        let created = try await service.createGenerated(user: user, issuer: "mfa-bridge", kind: .hidSlot, digits: digits)
                        return (created, created.serial)
                    },
                    configuration: { created in
                        let secret = try OTPSecret(base32: created.secret)
                        var key = secret.withUnsafeBytes { Array($0) }
                        defer { LibCrypto.wipe(&key) }
                        return try YubiOTPSlotConfiguration.hotp(key: key, digits: digits, initialMovingFactor: 0)
                    },
                    capture: { try captureTyped(2, hid: hid, slot: slot) },
                    enable: { created, codes in try await service.enable(serial: created.serial, user: user, code1: codes[0], code2: codes[1]) })
                let output = EnrollHIDOutput(
                    serial: created.serial, user: user, kind: DeviceKind.hidSlot.rawValue, slot: slot.slot, digits: digits, publicId: nil, device: device)
                if json { try CLIOutput.printJSON(output); return }
                print("enrolled slot \(slot.slot) of \(device) (HOTP, \(digits) digits) as device \(created.serial) for \(user): active")
            }
        }
    }

    /// `mfactl enroll hid-yubiotp`: a Yubico OTP slot of a YubiKey, with ids and key generated by the service.
    struct HIDYubicoOTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hid-yubiotp",
            abstract: "Create a pending yubico-otp device, program its public id, private id and AES key into a YubiKey slot, capture one OTP, enable.")
        @OptionGroup var backend: BackendOptions
        @OptionGroup var hid: HIDDeviceOptions
        @OptionGroup var slot: EnrollSlotOptions
        @Option(help: "The user the token is enrolled for (exact bytes).") var user: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                let service = try await backend.backend()
                let (created, device) = try await enrollHIDSlot(
                    backend: service, hid: hid, slot: slot,
                    create: {
                        let created = try await service.createYubicoOTP(user: user)
                        return (created, created.serial)
                    },
                    configuration: { created in
                        var key = try Hex.decode(created.aesKey)
                        var privateID = try Hex.decode(created.privateId)
                        defer {
                            LibCrypto.wipe(&key)
                            LibCrypto.wipe(&privateID)
                        }
                        return try YubiOTPSlotConfiguration.yubicoOTP(publicID: try Modhex.decode(created.publicId), privateID: privateID, key: key)
                    },
                    capture: { try captureTyped(1, hid: hid, slot: slot) },
                    enable: { created, otps in try await service.enable(serial: created.serial, user: user, otp: otps[0]) })
                let output = EnrollHIDOutput(
                    serial: created.serial, user: user, kind: DeviceKind.yubicoOTP.rawValue, slot: slot.slot, digits: nil, publicId: created.publicId,
                    device: device)
                if json { try CLIOutput.printJSON(output); return }
                print("enrolled slot \(slot.slot) of \(device) (Yubico OTP, public id \(created.publicId)) as device \(created.serial) for \(user): active")
            }
        }
    }
}
