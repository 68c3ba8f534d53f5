import ArgumentParser
import Foundation
import MFA
import MFAServer
import OTP
import QRCode

/// `mfactl tokens list`: the inventory.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "Hardware token inventory.", subcommands: [List.self, TokensImport.self])
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The hardware token inventory: serial, kind, state, user.")
        @OptionGroup var backend: BackendOptions
        @Option(help: "assigned, unassigned or any.") var assignment: String = "any"
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIOutput.run {
                guard let filter = Assignment(rawValue: assignment) else { throw CLIError("--assignment must be assigned, unassigned or any") }
                let devices = try await backend.backend(readOnly: true).inventory(filter)
                if json { try CLIOutput.printJSON(DeviceListOutput(devices: devices)) } else { DeviceListOutput(devices: devices).printTable() }
            }
        }
    }
}
