import ArgumentParser
import Foundation
import OTP
import TokenDevices

/// `mfactl hid …`: USB tokens through libusb — the YubiKey OTP interface (status, slot programming,
/// challenge-response, typed-OTP capture) and the catalog's udev rules.
struct HIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hid", abstract: "USB HID tokens: YubiKey OTP slots, challenge-response, typed OTPs.",
        subcommands: [
            List.self, Status.self, ProgramHOTP.self, ProgramChalResp.self, ProgramYubiOTP.self, DeleteSlot.self, ChalResp.self,
            Capture.self, Watch.self, UdevRules.self,
        ])

    /// A USB device as listed.
    struct Token: Encodable {
        let bus: Int
        let address: Int
        let id: String
        let vendor: String?
        let model: String?
        let interfaces: [String]
        let manufacturer: String?
        let product: String?
        let serialNumber: String?
        let note: String?

        init(_ info: USBDeviceInfo) {
            let model = TokenCatalog.model(for: info)
            bus = Int(info.bus)
            address = Int(info.address)
            id = info.id
            vendor = model?.vendor
            self.model = model?.model
            interfaces = model?.interfaces.names ?? []
            manufacturer = info.manufacturer
            product = info.product
            serialNumber = info.serialNumber
            note = info.stringsNote
        }
    }

    /// Supported tokens currently connected (catalog matches only, unless `all`).
    static func tokens(all: Bool = false) throws -> [USBDeviceInfo] {
        let client = try USBClient()
        defer { client.close() }
        return try client.performBlocking { try $0.devices() }.filter { all || TokenCatalog.model(for: $0) != nil }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Supported USB tokens that are connected (from the token catalog).")
        @Flag(help: "Also list USB devices that are not in the catalog.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try CLIOutput.run {
                let tokens = try HIDCommand.tokens(all: all).map(Token.init)
                if json { return try CLIOutput.printJSON(["tokens": tokens]) }
                if tokens.isEmpty { print("no supported USB tokens") }
                for t in tokens {
                    let name = [t.vendor, t.model].compactMap { $0 }.joined(separator: " ")
                    print("\(t.bus):\(t.address)\t\(t.id)\t\(name.isEmpty ? (t.product ?? "unknown") : name)\t\(t.interfaces.joined(separator: "+"))")
                }
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print USB tokens as they arrive and leave (libusb hotplug, or polling where libusb has none).")
        @Option(help: "Stop after this many events (the tokens present at start count as arrivals).") var events: Int?
        @Option(help: "Stop after this many seconds (an error if --events was not reached).") var timeout: Double = 60
        @Flag(help: "Also show USB devices that are not in the catalog.") var all = false
        @Flag(help: "Poll the device list instead of using libusb hotplug callbacks.") var poll = false
        @Flag(help: "Print one JSON object per line.") var json = false

        struct Event: Encodable {
            let event: String
            let token: Token
        }

        func run() async throws {
            try await CLIOutput.run {
                guard events.map({ $0 > 0 }) ?? true, timeout > 0 else { throw CLIError("--events and --timeout must be positive") }
                let client = try USBClient()
                defer { client.close() }
                let stream = client.hotplugEvents(pollInterval: .milliseconds(250), forcePolling: poll)
                let limit = events
                let reached = await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        var seen = 0
                        for await event in stream {
                            let (name, info): (String, USBDeviceInfo) = switch event {
                            case .arrived(let info): ("arrived", info)
                            case .left(let info): ("left", info)
                            }
                            guard all || TokenCatalog.model(for: info) != nil || name == "left" else { continue }
                            let token = Token(info)
                            if json {
                                let data = (try? JSONEncoder().encode(Event(event: name, token: token))) ?? Data()
                                FileHandle.standardOutput.write(data + Data("\n".utf8))
                            } else {
                                let model = [token.vendor, token.model].compactMap { $0 }.joined(separator: " ")
                                FileHandle.standardOutput.write(Data("\(name)\t\(token.bus):\(token.address)\t\(token.id)\t\(model)\n".utf8))
                            }
                            seen += 1
                            if let limit, seen >= limit { return true }
                        }
                        return false
                    }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(timeout))
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
                if limit != nil && !reached { throw CLIError("timed out after \(timeout) s before \(limit!) events") }
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Firmware, serial number and slot state of the OTP interface.")
        @OptionGroup var device: HIDDeviceOptions
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let device: String
            let firmware: String
            let serial: UInt32?
            let programmingSequence: Int
            let slots: [SlotState]
        }
        struct SlotState: Encodable {
            let slot: Int
            let configured: Bool
            let touchTriggered: Bool
        }

        func run() throws {
            try CLIOutput.run {
                let output = try device.withSession { session, info in
                    let serial = try? session.serialNumber()
                    let status = session.status
                    return Output(
                        device: info.id, firmware: status.firmware, serial: serial, programmingSequence: Int(status.programmingSequence),
                        slots: YubiOTPSlot.allCases.map {
                            SlotState(slot: $0.rawValue, configured: status.isConfigured($0), touchTriggered: status.needsTouch($0))
                        })
                }
                if json { return try CLIOutput.printJSON(output) }
                print("device:   \(output.device)")
                print("firmware: \(output.firmware)")
                print("serial:   \(output.serial.map(String.init) ?? "not readable")")
                for s in output.slots {
                    print("slot \(s.slot):   \(s.configured ? (s.touchTriggered ? "configured (touch)" : "configured") : "empty")")
                }
            }
        }
    }

    struct ProgramHOTP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "program-hotp", abstract: "Program a slot with OATH-HOTP (typed on touch).")
        @OptionGroup var device: HIDDeviceOptions
        @OptionGroup var slot: SlotOptions
        @Option(help: "The secret in Base32.") var secret: String?
        @Option(name: .customLong("secret-hex"), help: "The secret in hexadecimal (at most 20 bytes).") var secretHex: String?
        @Option(help: "6 or 8.") var digits = 6
        @Option(help: "Initial counter (a multiple of 16).") var counter: UInt32 = 0

        func run() throws {
            try CLIOutput.run {
                let key: [UInt8]
                switch (secret, secretHex) {
                case (let base32?, nil): key = try Base32.decode(base32)
                case (nil, let hex?): key = try Hex.decode(hex)
                default: throw CLIError("give exactly one of --secret BASE32 or --secret-hex HEX")
                }
                let config = try YubiOTPSlotConfiguration.hotp(key: key, digits: digits, initialMovingFactor: counter)
                try slot.program(config, device: device)
            }
        }
    }

    struct ProgramChalResp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "program-chalresp", abstract: "Program a slot with HMAC-SHA1 challenge-response.")
        @OptionGroup var device: HIDDeviceOptions
        @OptionGroup var slot: SlotOptions
        @Option(name: .customLong("secret-hex"), help: "The HMAC key in hexadecimal (at most 20 bytes).") var secretHex: String
        @Flag(help: "Require a touch for every response.") var touch = false

        func run() throws {
            try CLIOutput.run {
                let config = try YubiOTPSlotConfiguration.challengeResponseHMAC(key: try Hex.decode(secretHex), requireTouch: touch)
                try slot.program(config, device: device)
            }
        }
    }

    struct ProgramYubiOTP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "program-yubiotp", abstract: "Program a slot with Yubico OTP (typed on touch).")
        @OptionGroup var device: HIDDeviceOptions
        @OptionGroup var slot: SlotOptions
        @Option(name: .customLong("public-id"), help: "Public id in modhex (usually 12 characters).") var publicID: String
        @Option(name: .customLong("private-id"), help: "Private id in hexadecimal (6 bytes).") var privateID: String
        @Option(help: "AES-128 key in hexadecimal (16 bytes).") var key: String

        func run() throws {
            try CLIOutput.run {
                let config = try YubiOTPSlotConfiguration.yubicoOTP(
                    publicID: try Modhex.decode(publicID), privateID: try Hex.decode(privateID), key: try Hex.decode(key))
                try slot.program(config, device: device)
            }
        }
    }

    struct DeleteSlot: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-slot", abstract: "Erase a slot's configuration.")
        @OptionGroup var device: HIDDeviceOptions
        @OptionGroup var slot: SlotOptions

        func run() throws {
            try CLIOutput.run {
                let access = try slot.accessCodeBytes()
                try device.withSession { session, _ in try session.deleteSlot(slot.yubiSlot, accessCode: access) }
                print("slot \(slot.slot) deleted")
            }
        }
    }

    struct ChalResp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "chalresp", abstract: "HMAC-SHA1 challenge-response with a slot (prints the 20-byte response in hex).")
        @OptionGroup var device: HIDDeviceOptions
        @Option(help: "1 or 2.") var slot: Int = 2
        @Option(help: "The challenge in hexadecimal (1 to 63 bytes).") var challenge: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try CLIOutput.run {
                guard let yubiSlot = YubiOTPSlot(rawValue: slot) else { throw CLIError("--slot must be 1 or 2") }
                let bytes = try Hex.decode(challenge)
                let response = try device.withSession { session, _ in try session.challengeResponse(yubiSlot, challenge: bytes) }
                if json { return try CLIOutput.printJSON(["slot": String(slot), "response": Hex.encode(response)]) }
                print(Hex.encode(response))
            }
        }
    }

    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the OTP the token types when touched (slot 1: short touch, slot 2: long touch); optionally decode a Yubico OTP.")
        @OptionGroup var device: HIDDeviceOptions
        @Option(help: "The slot you will trigger (informational: the token decides by touch length).") var slot: Int = 1
        @Option(name: .customLong("aes-key"), help: "Decrypt and check a Yubico OTP with this AES-128 key (hex).") var aesKey: String?
        @Option(name: .customLong("private-id"), help: "Expected private id (hex) when decoding.") var privateID: String?
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let slot: Int
            let otp: String
            let publicID: String?
            let usageCounter: Int?
            let sessionCounter: Int?
            let timestamp: Int?
        }

        func run() throws {
            try CLIOutput.run {
                if !json { FileHandle.standardError.write(Data("touch the token (slot \(slot))…\n".utf8)) }
                let timeout = device.touchTimeout
                let otp = try device.withHandle { handle in try TypedOTPCapture.capture(handle, timeout: timeout) }
                var output = Output(slot: slot, otp: otp, publicID: nil, usageCounter: nil, sessionCounter: nil, timestamp: nil)
                if let aesKey {
                    let key = try Hex.decode(aesKey)
                    let token = try privateID.map { (id) throws -> YubicoOTPToken in
                        try YubicoOTP.validate(otp, key: key, privateID: try Hex.decode(id))
                    } ?? YubicoOTP.decrypt(otp, key: key)
                    output = Output(
                        slot: slot, otp: otp, publicID: Modhex.encode(token.publicID), usageCounter: Int(token.usageCounter),
                        sessionCounter: Int(token.sessionCounter), timestamp: Int(token.timestamp))
                }
                if json { return try CLIOutput.printJSON(output) }
                print(otp)
                if let usage = output.usageCounter, let session = output.sessionCounter {
                    print("public id \(output.publicID ?? ""), usage counter \(usage), session counter \(session)")
                }
            }
        }
    }

    struct UdevRules: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "udev-rules", abstract: "Print udev rules giving users access to every catalog token.")
        func run() { print(TokenCatalog.udevRules, terminator: "") }
    }
}

/// Which USB token to use and how long to wait for it.
struct HIDDeviceOptions: ParsableArguments {
    @Option(help: "The device as BUS:ADDRESS (from `mfactl hid list`); default: the first token with an OTP interface.")
    var device: String?
    @Option(name: .customLong("timeout"), help: "Seconds to wait for a touch.") var timeoutSeconds: Double = 15

    var touchTimeout: Duration { .milliseconds(Int64(timeoutSeconds * 1000)) }

    /// Opens the chosen device on a libusb client thread and runs `body` with it.
    func withHandle<T>(_ body: (USBDeviceHandle) throws -> T) throws -> T {
        let client = try USBClient()
        defer { client.close() }
        let choice = try parse()
        return try client.performBlocking { context in
            let handle: USBDeviceHandle
            if let choice {
                handle = try context.open(bus: choice.bus, address: choice.address)
            } else {
                guard let info = try context.devices(readStrings: false).first(where: { TokenCatalog.model(for: $0)?.interfaces.contains(.otp) == true })
                else { throw YubiOTPError(.noDevice, "no USB token with an OTP interface is connected (see `mfactl hid list --all`)") }
                handle = try context.open(bus: info.bus, address: info.address)
            }
            defer { handle.close() }
            return try body(handle)
        }
    }

    /// Opens the OTP interface (claimed for the session, released after) and runs `body`.
    func withSession<T>(_ body: (YubiOTPSession, USBDeviceInfo) throws -> T) throws -> T {
        let timeouts = YubiOTPTimeouts(touch: touchTimeout)
        return try withHandle { handle in
            let transport = try YubiOTPUSBTransport(handle: handle)
            defer { transport.close() }
            return try body(try YubiOTPSession(transport: transport, timeouts: timeouts), handle.info)
        }
    }

    private func parse() throws -> (bus: UInt8, address: UInt8)? {
        guard let device else { return nil }
        let parts = device.split(separator: ":")
        guard parts.count == 2, let bus = UInt8(parts[0]), let address = UInt8(parts[1]) else {
            throw CLIError("--device must be BUS:ADDRESS, e.g. 1:2")
        }
        return (bus, address)
    }
}

/// The slot to program and its access codes.
struct SlotOptions: ParsableArguments {
    @Option(help: "1 or 2.") var slot: Int
    @Option(name: .customLong("access-code"), help: "The slot's current access code (6 bytes hex).") var accessCode: String?
    @Option(name: .customLong("new-access-code"), help: "Protect the slot with this access code (6 bytes hex).") var newAccessCode: String?

    func validate() throws {
        guard slot == 1 || slot == 2 else { throw ValidationError("--slot must be 1 or 2") }
    }

    var yubiSlot: YubiOTPSlot { YubiOTPSlot(rawValue: slot) ?? .one }

    func accessCodeBytes() throws -> [UInt8]? {
        try accessCode.map { (text) throws -> [UInt8] in try Hex.decode(text) }
    }

    func program(_ configuration: YubiOTPSlotConfiguration, device: HIDDeviceOptions) throws {
        var config = configuration
        if let newAccessCode {
            let code = try Hex.decode(newAccessCode)
            guard code.count == 6 else { throw CLIError("--new-access-code must be 6 bytes") }
            config.newAccessCode = code
        }
        let access = try accessCodeBytes()
        try device.withSession { session, _ in try session.configure(yubiSlot, config, accessCode: access) }
        print("slot \(slot) programmed (\(config.kind.rawValue))")
    }
}
