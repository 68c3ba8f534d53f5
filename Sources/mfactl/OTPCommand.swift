import ArgumentParser
import Foundation
import OTP

/// `mfactl otp …`: compute, verify and convert one-time codes without any store.
struct OTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Generate and verify HOTP/TOTP codes; parse and make otpauth:// URIs.",
        subcommands: [Generate.self, Verify.self, URICommand.self]
    )
}

/// The secret and parameters shared by `otp generate` and `otp verify`.
struct OTPOptions: ParsableArguments {
    @Option(help: "The secret in Base32 (as authenticator apps show it).")
    var secret: String?

    @Option(name: .customLong("secret-hex"), help: "The secret in hexadecimal.")
    var secretHex: String?

    @Option(help: "totp or hotp.")
    var type: String = "totp"

    @Option(help: "HOTP counter.")
    var counter: UInt64?

    @Option(help: "Unix time in seconds for TOTP (default: now).")
    var time: Int64?

    @Option(help: "TOTP period in seconds.")
    var period: Int64 = 30

    @Option(help: "Number of digits: 6, 7 or 8.")
    var digits: Int = 6

    @Option(help: "sha1, sha256 or sha512.")
    var algorithm: String = "sha1"

    func validate() throws {
        if (secret == nil) == (secretHex == nil) {
            throw ValidationError("give exactly one of --secret BASE32 or --secret-hex HEX")
        }
    }

    func makeSecret() throws(OTPError) -> OTPSecret {
        if let secret { return try OTPSecret(base32: secret) }
        return try OTPSecret(hex: secretHex ?? "")
    }

    func otpType() throws(OTPError) -> OTPType {
        guard let value = OTPType(rawValue: type.lowercased()) else {
            throw OTPError(.unsupportedType, "unsupported --type '\(type)': expected totp or hotp")
        }
        return value
    }

    var effectiveTime: Int64 { time ?? Int64(Date().timeIntervalSince1970.rounded(.down)) }

    func hotpCounter() throws(OTPError) -> UInt64 {
        guard let counter else { throw OTPError(.invalidCounter, "HOTP needs --counter N") }
        return counter
    }
}

extension OTPCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the code for a counter or a time.")

        @OptionGroup var options: OTPOptions
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let code: String
            let type: String
            let algorithm: String
            let digits: Int
            let counter: UInt64?
            let time: Int64?
            let period: Int64?
            let step: Int64?
            let validForSeconds: Int64?
        }

        func run() throws {
            try CLIOutput.run {
                let secret = try options.makeSecret()
                let algorithm = try HashAlgorithm(parsing: options.algorithm)
                let output: Output
                switch try options.otpType() {
                case .hotp:
                    let counter = try options.hotpCounter()
                    let code = try HOTP(secret: secret, algorithm: algorithm, digits: options.digits).code(counter: counter)
                    output = Output(
                        code: code.description, type: "hotp", algorithm: algorithm.rawValue, digits: options.digits,
                        counter: counter, time: nil, period: nil, step: nil, validForSeconds: nil)
                case .totp:
                    let totp = try TOTP(secret: secret, algorithm: algorithm, digits: options.digits, period: options.period)
                    let time = options.effectiveTime
                    let code = try totp.code(at: time)
                    let step = totp.step(at: time)
                    output = Output(
                        code: code.description, type: "totp", algorithm: algorithm.rawValue, digits: options.digits,
                        counter: nil, time: time, period: options.period, step: step,
                        validForSeconds: (step + 1) * options.period - time)
                }
                if json { try CLIOutput.printJSON(output) } else { print(output.code) }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a code: exit 0 and print the matched offset, or exit 1 when it does not match.",
            discussion: """
                HOTP: the look-ahead window [counter, counter + window]. TOTP: the steps within ±window of
                the step of --time (default now). The check runs in constant time.
                """)

        @OptionGroup var options: OTPOptions
        @Option(help: "The code to check.") var code: String
        @Option(help: "Window: HOTP look-ahead, TOTP ± steps (default: HOTP 10, TOTP 1).") var window: Int?
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let match: Bool
            let offset: Int64?
            let counter: UInt64?
        }

        func run() throws {
            var matched = false
            try CLIOutput.run {
                let secret = try options.makeSecret()
                let algorithm = try HashAlgorithm(parsing: options.algorithm)
                let candidate = try OTPCode(parsing: code, digits: options.digits)
                let result: WindowMatch?
                switch try options.otpType() {
                case .hotp:
                    result = try HOTP(secret: secret, algorithm: algorithm, digits: options.digits)
                        .verify(candidate, counter: try options.hotpCounter(), lookAhead: window ?? 10)
                case .totp:
                    result = try TOTP(secret: secret, algorithm: algorithm, digits: options.digits, period: options.period)
                        .verify(candidate, at: options.effectiveTime, window: window ?? 1)
                }
                matched = result != nil
                if json {
                    try CLIOutput.printJSON(Output(match: matched, offset: result?.offset, counter: result?.counter))
                } else if let result {
                    print("match at offset \(result.offset) (counter \(result.counter))")
                } else {
                    print("no match")
                }
            }
            if !matched { throw ExitCode(1) }
        }
    }

    struct URICommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "uri", abstract: "Parse or make otpauth:// Key URIs.", subcommands: [Parse.self, Make.self])
    }
}

extension OTPCommand.URICommand {
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the fields of an otpauth:// URI.")

        @Argument(help: "The otpauth:// URI.") var uri: String
        @Flag(name: .customLong("show-secret"), help: "Also print the secret (Base32).") var showSecret = false
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let type: String
            let issuer: String?
            let account: String
            let algorithm: String
            let digits: Int
            let period: Int64?
            let counter: UInt64?
            let secretBytes: Int
            let secret: String?
        }

        func run() throws {
            try CLIOutput.run {
                let parsed = try OTPAuthURI(parsing: uri)
                let output = Output(
                    type: parsed.type.rawValue, issuer: parsed.issuer, account: parsed.account,
                    algorithm: parsed.algorithm.rawValue, digits: parsed.digits,
                    period: parsed.type == .totp ? parsed.period : nil,
                    counter: parsed.type == .hotp ? parsed.counter : nil, secretBytes: parsed.secret.count,
                    secret: showSecret ? parsed.secret.base32EncodedString() : nil)
                if json { try CLIOutput.printJSON(output); return }
                print("type:      \(output.type)")
                print("issuer:    \(output.issuer ?? "-")")
                print("account:   \(output.account)")
                print("algorithm: \(output.algorithm)")
                print("digits:    \(output.digits)")
                if let period = output.period { print("period:    \(period)") }
                if let counter = output.counter { print("counter:   \(counter)") }
                print("secret:    \(output.secret ?? "<redacted, \(output.secretBytes) bytes; --show-secret prints it>")")
            }
        }
    }

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build an otpauth:// URI (with a new random secret unless one is given).")

        @Option(help: "Account name, e.g. alice@example.com.") var account: String
        @Option(help: "Issuer, e.g. Example Corp.") var issuer: String?
        @Option(help: "The secret in Base32 (default: 20 random bytes).") var secret: String?
        @Option(name: .customLong("secret-hex"), help: "The secret in hexadecimal.") var secretHex: String?
        @Option(help: "totp or hotp.") var type: String = "totp"
        @Option(help: "sha1, sha256 or sha512.") var algorithm: String = "sha1"
        @Option(help: "Number of digits: 6, 7 or 8.") var digits: Int = 6
        @Option(help: "TOTP period in seconds.") var period: Int64 = 30
        @Option(help: "HOTP initial counter.") var counter: UInt64 = 0

        func run() throws {
            try CLIOutput.run {
                guard secret == nil || secretHex == nil else {
                    throw OTPError(.invalidParameter, "give at most one of --secret and --secret-hex")
                }
                let key: OTPSecret =
                    if let secret { try OTPSecret(base32: secret) } else if let secretHex { try OTPSecret(hex: secretHex) } else {
                        OTPSecret.random(byteCount: 20)
                    }
                guard let otpType = OTPType(rawValue: type.lowercased()) else {
                    throw OTPError(.unsupportedType, "unsupported --type '\(type)': expected totp or hotp")
                }
                let uri = try OTPAuthURI(
                    type: otpType, issuer: issuer, account: account, secret: key,
                    algorithm: try HashAlgorithm(parsing: algorithm), digits: digits, period: period, counter: counter)
                print(uri.uriString)
            }
        }
    }
}
