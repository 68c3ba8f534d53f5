import ArgumentParser
import Foundation
import OTP
import TokenDevices

/// `mfactl oath …`: the OATH applet of a smart card or security key over PC/SC.
struct OATHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oath",
        abstract: "Manage OATH credentials on a card (YubiKey, Nitrokey 3, other YKOATH cards) over PC/SC.",
        subcommands: [List.self, Code.self, Put.self, Delete.self, Rename.self, Reset.self, Password.self]
    )
}

/// Reader and password options of every `oath` command.
struct CardOptions: ParsableArguments {
    @Option(help: "Reader: exact name, unique substring (case-insensitive) or index. Optional with one reader.")
    var reader: String?

    @Option(help: "The applet's password (or MFACTL_OATH_PASSWORD).")
    var password: String?

    @Option(name: .customLong("password-file"), help: "Read the applet's password from this file's first line.")
    var passwordFile: String?

    /// `--password`, else `--password-file`'s first line, else MFACTL_OATH_PASSWORD; two sources or an
    /// unreadable file are refused (before the card is touched).
    func resolvedPassword() throws -> String? {
        guard password == nil || passwordFile == nil else { throw CLIError("give --password or --password-file, not both") }
        if let passwordFile { return try SecretFile.firstLine(passwordFile, option: "--password-file") }
        return password ?? ProcessInfo.processInfo.environment["MFACTL_OATH_PASSWORD"]
    }

    /// Opens the chosen reader's card inside a transaction, selects and (if needed) unlocks the
    /// applet, and runs `body` on the PC/SC thread.
    func withSession<T>(unlock: Bool = true, _ body: (OATHSession) throws -> T) throws -> T {
        let password = try resolvedPassword()
        let client = try PCSCClient()
        defer { client.close() }
        return try client.performBlocking { context in
            let name = try ReaderSelection.resolve(reader, among: try context.readers())
            let card = try context.connect(reader: name)
            defer { try? card.disconnect() }
            return try card.withTransaction {
                let session = try OATHSession(transport: card)
                if unlock {
                    if let password {
                        try session.validate(password: password)
                    } else if session.isLocked {
                        throw OATHError(.authenticationRequired, "the OATH applet on '\(name)' is password-protected: give --password")
                    }
                }
                return try body(session)
            }
        }
    }
}

extension OATHCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the credentials.")
        @OptionGroup var card: CardOptions
        @Flag(help: "Print JSON.") var json = false

        struct Entry: Encodable {
            let name: String
            let issuer: String?
            let account: String
            let type: String
            let algorithm: String
            let period: Int64?
        }

        func run() throws {
            try CLIOutput.run {
                let credentials = try card.withSession { try $0.list() }
                let entries = credentials.sorted { $0.id < $1.id }.map { c in
                    Entry(
                        name: c.id, issuer: c.parsedID.issuer, account: c.parsedID.account, type: c.type.rawValue,
                        algorithm: c.algorithm.rawValue, period: c.type == .totp ? c.period : nil)
                }
                if json { try CLIOutput.printJSON(["credentials": entries]); return }
                for e in entries { print("\(e.name)\t\(e.type)\t\(e.algorithm)\(e.period.map { "\t\($0)s" } ?? "")") }
            }
        }
    }

    struct Code: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show codes. With --name, one credential (HOTP counters advance; touch credentials wait for a touch).")
        @OptionGroup var card: CardOptions
        @Option(help: "Credential: exact id or unique substring.") var name: String?
        @Option(help: "Unix time in seconds (default: now).") var time: Int64?
        @Flag(help: "Print JSON.") var json = false

        struct Entry: Encodable {
            let name: String
            let type: String
            let code: String?
            let touchRequired: Bool
            let validFrom: Int64?
            let validUntil: Int64?
        }

        func run() throws {
            try CLIOutput.run {
                let now = time ?? Int64(Date().timeIntervalSince1970)
                let entries: [Entry] = try card.withSession { session in
                    if let name {
                        let credential = try Self.pick(name, from: try session.list())
                        let code = try session.calculate(credential, time: now)
                        let start = credential.type == .totp ? (now / credential.period) * credential.period : nil
                        return [Entry(
                            name: credential.id, type: credential.type.rawValue, code: code.description, touchRequired: false,
                            validFrom: start, validUntil: start.map { $0 + credential.period })]
                    }
                    return try session.calculateAll(time: now).map { c in
                        switch c.outcome {
                        case .code(let code):
                            Entry(name: c.credential.id, type: "totp", code: code.description, touchRequired: false, validFrom: c.validFrom, validUntil: c.validUntil)
                        case .hotp:
                            Entry(name: c.credential.id, type: "hotp", code: nil, touchRequired: false, validFrom: nil, validUntil: nil)
                        case .touchRequired:
                            Entry(name: c.credential.id, type: "totp", code: nil, touchRequired: true, validFrom: nil, validUntil: nil)
                        }
                    }.sorted { $0.name < $1.name }
                }
                if json { try CLIOutput.printJSON(["codes": entries]); return }
                for e in entries {
                    let shown = e.code ?? (e.touchRequired ? "[touch required: use --name]" : "[HOTP: use --name]")
                    print("\(e.name)\t\(shown)")
                }
            }
        }

        static func pick(_ name: String, from credentials: [OATHCredential]) throws -> OATHCredential {
            if let exact = credentials.first(where: { $0.id == name }) { return exact }
            let matches = credentials.filter { $0.id.lowercased().contains(name.lowercased()) }
            if matches.count == 1 { return matches[0] }
            if matches.isEmpty { throw OATHError(.noSuchCredential, "no credential matches '\(name)'") }
            throw OATHError(.invalidParameter, "'\(name)' matches several credentials: \(matches.map(\.id).sorted().joined(separator: ", "))")
        }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a credential (from options or an otpauth:// URI).")
        @OptionGroup var card: CardOptions
        @Option(help: "ISSUER:ACCOUNT or ACCOUNT.") var name: String?
        @Option(help: "The secret in Base32.") var secret: String?
        @Option(name: .customLong("secret-hex"), help: "The secret in hexadecimal.") var secretHex: String?
        @Option(help: "An otpauth:// URI instead of the options above.") var uri: String?
        @Option(help: "totp or hotp.") var type: String = "totp"
        @Option(help: "6, 7 or 8.") var digits: Int = 6
        @Option(help: "sha1, sha256 or sha512.") var algorithm: String = "sha1"
        @Option(help: "TOTP period in seconds.") var period: Int64 = 30
        @Option(help: "HOTP initial counter.") var counter: UInt32 = 0
        @Flag(help: "Require a touch for each code.") var touch = false

        func run() throws {
            try CLIOutput.run {
                let id: OATHCredentialID
                let secretValue: OTPSecret
                let oathType: OATHType
                let hash: HashAlgorithm
                let digitCount: Int
                let initialCounter: UInt32
                if let uri {
                    let parsed = try OTPAuthURI(parsing: uri)
                    id = OATHCredentialID(issuer: parsed.issuer, account: parsed.account, period: parsed.period)
                    secretValue = parsed.secret
                    oathType = parsed.type == .hotp ? .hotp : .totp
                    hash = parsed.algorithm
                    digitCount = parsed.digits
                    guard parsed.counter <= UInt64(UInt32.max) else {
                        throw OATHError(.invalidParameter, "the applet's HOTP counter is 32 bits; \(parsed.counter) is too large")
                    }
                    initialCounter = UInt32(parsed.counter)
                } else {
                    guard let name else { throw CLIError("give --name ISSUER:ACCOUNT (or --uri)") }
                    guard (secret == nil) != (secretHex == nil) else { throw CLIError("give exactly one of --secret or --secret-hex") }
                    let parsed = OATHCredentialID(parsing: name, type: .hotp)
                    guard period > 0 else { throw OTPError(.invalidPeriod, "--period must be positive") }
                    id = OATHCredentialID(issuer: parsed.issuer, account: parsed.account, period: period)
                    secretValue = try secret.map { try OTPSecret(base32: $0) } ?? OTPSecret(hex: secretHex!)
                    guard let t = OATHType(rawValue: type.lowercased()) else {
                        throw OTPError(.unsupportedType, "unsupported --type '\(type)': expected totp or hotp")
                    }
                    oathType = t
                    hash = try HashAlgorithm(parsing: algorithm)
                    digitCount = digits
                    initialCounter = counter
                }
                let stored = id.formatted(type: oathType)
                try card.withSession { session in
                    try session.put(
                        id: stored, type: oathType, algorithm: hash, digits: digitCount, secret: secretValue,
                        counter: initialCounter, requireTouch: touch)
                }
                print("stored \(stored)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a credential.")
        @OptionGroup var card: CardOptions
        @Option(help: "Credential: exact id or unique substring.") var name: String

        func run() throws {
            try CLIOutput.run {
                let id = try card.withSession { session in
                    let credential = try Code.pick(name, from: try session.list())
                    try session.delete(id: credential.id)
                    return credential.id
                }
                print("deleted \(id)")
            }
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a credential (firmware 5.3.1 or later).")
        @OptionGroup var card: CardOptions
        @Option(help: "Credential: exact id or unique substring.") var name: String
        @Option(name: .customLong("new-name"), help: "New ISSUER:ACCOUNT (the period prefix is kept).") var newName: String

        func run() throws {
            try CLIOutput.run {
                let (old, new) = try card.withSession { session -> (String, String) in
                    let credential = try Code.pick(name, from: try session.list())
                    let parsed = OATHCredentialID(parsing: newName, type: .hotp)
                    let target = OATHCredentialID(issuer: parsed.issuer, account: parsed.account, period: credential.period)
                        .formatted(type: credential.type)
                    try session.rename(id: credential.id, to: target)
                    return (credential.id, target)
                }
                print("renamed \(old) to \(new)")
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Erase all credentials and the password.")
        @OptionGroup var card: CardOptions
        @Flag(help: "Confirm: everything on the applet is erased.") var force = false

        func run() throws {
            try CLIOutput.run {
                guard force else {
                    throw CLIError("reset erases every OATH credential and the password: confirm with --force")
                }
                try card.withSession(unlock: false) { try $0.reset() }
                print("OATH applet reset")
            }
        }
    }

    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set, change or clear the applet's password.", subcommands: [Set.self, Clear.self])

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set or change the password (--password gives the current one).")
            @OptionGroup var card: CardOptions
            @Option(name: .customLong("new-password"), help: "The new password.") var newPassword: String

            func run() throws {
                try CLIOutput.run {
                    guard !newPassword.isEmpty else { throw CLIError("the new password is empty; use 'password clear' to remove it") }
                    try card.withSession { try $0.setPassword(newPassword) }
                    print("password set")
                }
            }
        }

        struct Clear: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove the password (--password gives the current one).")
            @OptionGroup var card: CardOptions

            func run() throws {
                try CLIOutput.run {
                    try card.withSession { try $0.clearPassword() }
                    print("password cleared")
                }
            }
        }
    }
}
