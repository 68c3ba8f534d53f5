import ArgumentParser
import Foundation
import OTP

/// Shared output and error conventions of every mfactl command.
enum CLIOutput {
    /// Prints `value` as pretty, key-sorted JSON on standard output.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Writes `message` to standard error.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }

    /// Runs `body`, turning typed errors into a message on stderr and exit status 2.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as OTPError {
            printError(error.message)
            throw ExitCode(2)
        }
    }
}
