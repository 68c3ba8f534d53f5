import ArgumentParser
import Foundation
import TokenDevices

/// `mfactl devices list`: what is connected.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List connected tokens and readers.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "PC/SC readers: card present, ATR, and whether the OATH applet answers (version, password).")

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

        func run() throws {
            try CLIOutput.run {
                let client = try PCSCClient()
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
                    try CLIOutput.printJSON(["devices": readers])
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
            }
        }
    }
}
