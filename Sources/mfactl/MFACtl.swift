import ArgumentParser
import Foundation

/// `mfactl`: the admin CLI of the MFA token bridge and verifier.
@main
struct MFACtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfactl",
        abstract: "Hardware MFA token bridge and verifier: OTP codes, tokens, enrollment.",
        discussion: """
            Exit status: 0 success; 1 a code that did not match, a broken audit chain, or an import with \
            rejected keys; 2 bad input or another error found while running (one error: line); 64 a usage \
            error (an unknown option, a missing or unparsable value: the usage is printed).
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, MFACommand.self, EnrollCommand.self, TokensCommand.self, ReportCommand.self, AuditCommand.self, APIKeyCommand.self,
                      OTPCommand.self, DevicesCommand.self, OATHCommand.self, HIDCommand.self]
    )

    /// ArgumentParser's entry point, given `serve`'s settings from its file and the environment
    /// first (``ServeSettings``): a bad settings file is one error line and exit status 2.
    static func main() async {
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        } catch {
            CLIOutput.printError(error.description)
            Foundation.exit(2)
        }
        ServeSettings.startup.withLock { $0 = settings }
        await main(settings.arguments)
    }
}
