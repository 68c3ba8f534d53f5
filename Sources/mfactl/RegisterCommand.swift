import ArgumentParser
import Foundation
import MFAServer
import OTP

extension MFACommand {
    /// `mfactl mfa register`: one hardware token whose seed is on paper or a vendor's sheet.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register one hardware OATH token by hand (its serial and seed), as inventory or pending for a user.",
            discussion: """
                For a batch, use tokens import with the vendor's seed file. The seed is Base32, or hex with \\
                the prefix hex:; --secret-file reads it from a file's first line (out of ps and shell \\
                history). Then enable it with two consecutive codes: mfactl mfa enable --user U --serial S.
                """)
        @OptionGroup var backend: BackendOptions
        @Option(help: "The token's serial (as printed on it).") var serial: String
        @Option(help: "totp (time-based) or hotp (counter-based).") var type: String
        @Option(help: "The seed: Base32, or hex:HEX.") var secret: String?
        @Option(name: .customLong("secret-file"), help: "Read the seed from this file's first line.") var secretFile: String?
        @Option(help: "Code length: 6, 7 or 8.") var digits: Int = 6
        @Option(help: "HMAC hash: sha1, sha256 or sha512.") var algorithm: String = "sha1"
        @Option(help: "TOTP: seconds per code (1 to 3600).") var period: Int64 = 30
        @Option(help: "HOTP: the counter of the next code.") var counter: Int64 = 0
        @Option(help: "Pending for this user (else unassigned inventory, assigned when a user enables it).") var user: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIOutput.run {
                guard type == "totp" || type == "hotp" else { throw CLIError("--type must be totp or hotp") }
                guard (secret == nil) != (secretFile == nil) else { throw CLIError("give --secret or --secret-file (one of them)") }
                let text = try secretFile.map { try SecretFile.firstLine($0, option: "--secret-file") } ?? secret ?? ""
                let seed = text.trimmingCharacters(in: .whitespaces)
                let hex = seed.hasPrefix("hex:") ? String(seed.dropFirst(4)) : nil
                // Checked here so a typing slip is named before anything is sent.
                do { _ = try hex.map { try OTPSecret(hex: $0) } ?? OTPSecret(base32: seed) } catch let error as OTPError {
                    throw CLIError("the seed is not valid \(hex == nil ? "Base32" : "hex"): \(error.message)")
                }
                do { _ = try HashAlgorithm(parsing: algorithm) } catch { throw CLIError("--algorithm must be sha1, sha256 or sha512") }
                let request = RegisterRequest(
                    serial: serial, kind: type == "totp" ? "hardware-totp" : "hardware-hotp", secret: hex == nil ? seed : nil, secretHex: hex,
                    algorithm: algorithm, digits: digits, period: type == "totp" ? period : nil, counter: type == "hotp" ? counter : nil, user: user)
                try await backend.backend().register(request)
                let state = user == nil ? "unassigned" : "pending"
                if json { try CLIOutput.printJSON(["serial": serial, "state": state]); return }
                print("registered \(serial) (\(type == "totp" ? "hardware-totp" : "hardware-hotp"), \(state))")
                print("then: mfactl mfa enable --user \(user ?? "USER") --serial \(serial) --code1 CODE --code2 NEXT_CODE")
            }
        }
    }
}
