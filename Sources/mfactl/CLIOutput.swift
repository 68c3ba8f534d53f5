import ArgumentParser
import Foundation
import MFA
import OTP

/// A refusal or usage problem found while running a command (exit status 2, message on stderr).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Shared output and error conventions of every mfactl command.
enum CLIOutput {
    /// A Unix time as ISO 8601 in UTC (`2026-12-03T18:30:00Z`), as every text and JSON time prints.
    static func isoTime(_ seconds: Int64) -> String { SecondsText.iso(seconds) }

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

    /// Runs `body`, turning every typed error (OTP, PC/SC, OATH, reader choice, …) into its message on
    /// stderr and exit status 2. Argument-parser's own exits pass through.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            printError(String(describing: error))
            throw ExitCode(2)
        }
    }

    /// The async twin of ``run(_:)``.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            printError(String(describing: error))
            throw ExitCode(2)
        }
    }

    /// Lowercase hex of non-secret bytes (ATRs, salts' fingerprints).
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
