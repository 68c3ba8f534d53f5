import ArgumentParser
import Foundation
import TokenDevices

/// `mfactl devices list`: what is connected.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List connected tokens and readers.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "PC/SC readers (card, ATR, OATH applet) and USB tokens from the token catalog (libusb).")

        @Flag(help: "Print JSON.") var json = false

        struct OATHInfo: Encodable {
            let version: String
            let passwordProtected: Bool
        }

        struct Reader: Encodable {
            let kind = "pcsc"
            let index: Int
            let reader: String
            let cardPresent: Bool
            let atr: String?
            let oath: OATHInfo?
            /// Why the OATH applet could not be queried (no applet, card busy, …).
            let note: String?
        }

        /// A supported USB token (matched in ``TokenCatalog``).
        struct USBToken: Encodable {
            let kind = "usb"
            let bus: Int
            let address: Int
            let id: String
            let vendor: String
            let model: String
            let interfaces: [String]
            let product: String?
            let serialNumber: String?
        }

        /// Supported USB tokens, or why they could not be listed.
        static func usbTokens() -> (tokens: [USBToken], note: String?) {
            do {
                let client = try USBClient()
                defer { client.close() }
                let devices = try client.performBlocking { try $0.devices() }
                let tokens = devices.compactMap { info -> USBToken? in
                    guard let model = TokenCatalog.model(for: info) else { return nil }
                    return USBToken(
                        bus: Int(info.bus), address: Int(info.address), id: info.id, vendor: model.vendor, model: model.model,
                        interfaces: model.interfaces.names, product: info.product, serialNumber: info.serialNumber)
                }
                return (tokens, nil)
            } catch {
                return ([], String(describing: error))
            }
        }

        func run() throws {
            try CLIOutput.run {
                let usb = Self.usbTokens()
                let client: PCSCClient
                switch Result(catching: { () throws(PCSCError) -> PCSCClient in try PCSCClient() }) {
                case .success(let connected):
                    client = connected
                case .failure(let error) where error != .noService:
                    throw error
                case .failure(let error):
                    // No pcscd: the USB tokens are still worth showing.
                    if json { return try CLIOutput.printJSON(USBOnly(devices: [], usb: usb.tokens, pcscNote: error.description)) }
                    print("PC/SC: \(error.description)")
                    Self.printUSB(usb)
                    return
                }
                defer { client.close() }
                let readers: [Reader] = try client.performBlocking { context in
                    let names = try context.readers()
                    let states = try context.status(of: names)
                    return states.enumerated().map { index, state in
                        guard state.cardPresent else {
                            return Reader(index: index, reader: state.name, cardPresent: false, atr: nil, oath: nil, note: nil)
                        }
                        do {
                            let card = try context.connect(reader: state.name)
                            defer { try? card.disconnect() }
                            let session = try OATHSession(transport: card)
                            return Reader(
                                index: index, reader: state.name, cardPresent: true, atr: CLIOutput.hex(state.atr),
                                oath: OATHInfo(version: session.version.description, passwordProtected: session.hasPassword), note: nil)
                        } catch {
                            return Reader(
                                index: index, reader: state.name, cardPresent: true, atr: CLIOutput.hex(state.atr), oath: nil,
                                note: String(describing: error))
                        }
                    }
                }
                if json {
                    try CLIOutput.printJSON(Output(devices: readers, usb: usb.tokens, usbNote: usb.note))
                    return
                }
                if readers.isEmpty { print("no smart card readers") }
                for r in readers {
                    print("[\(r.index)] \(r.reader)")
                    guard r.cardPresent else { print("    no card"); continue }
                    print("    ATR:  \(r.atr ?? "")")
                    if let oath = r.oath {
                        print("    OATH: applet \(oath.version)\(oath.passwordProtected ? ", password-protected" : "")")
                    } else {
                        print("    OATH: \(r.note ?? "not available")")
                    }
                }
                Self.printUSB(usb)
            }
        }

        struct Output: Encodable {
            let devices: [Reader]
            let usb: [USBToken]
            let usbNote: String?
        }

        struct USBOnly: Encodable {
            let devices: [Reader]
            let usb: [USBToken]
            let pcscNote: String
        }

        static func printUSB(_ usb: (tokens: [USBToken], note: String?)) {
            if let note = usb.note {
                print("USB: \(note)")
                return
            }
            if usb.tokens.isEmpty { print("no supported USB tokens") }
            for t in usb.tokens {
                print("[usb \(t.bus):\(t.address)] \(t.id) \(t.vendor) \(t.model) (\(t.interfaces.joined(separator: "+")))")
                if let serial = t.serialNumber { print("    serial: \(serial)") }
            }
        }
    }
}
