import ArgumentParser
import Foundation
import MFA
import MFAServer
import OTP
import QRCode

/// `mfactl report credentials`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Reports.", subcommands: [Credentials.self])
    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One row per user and device (CSV or JSON).")
        @OptionGroup var backend: BackendOptions
        @Option(help: "csv or json.") var format: String = "csv"
        @Flag(help: "Print JSON (the same as --format json, like every other command).") var json = false
        func run() async throws {
            try await CLIOutput.run {
                guard ["csv", "json"].contains(format) else { throw CLIError("--format must be csv or json") }
                let rows = try await backend.backend(readOnly: true).report()
                switch json ? "json" : format {
                case "json": try CLIOutput.printJSON(["rows": rows])
                case "csv": print(([CredentialReportRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n"))
                default: throw CLIError("--format must be csv or json")
                }
            }
        }
    }
}
