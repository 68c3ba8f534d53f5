import Foundation
import MFA
import Synchronization
import TOMLKit

/// `mfactl serve`'s settings from a TOML file (`--config FILE` or `MFA_CONFIG`) and from `MFA_*`
/// environment variables, turned into the command-line options they stand for.
///
/// Why options: a value from the file or the environment then goes through exactly the parsing and
/// range checks a flag does, and `--help` stays the one list of what can be set. Precedence, per
/// setting: the command line, then its environment variable, then the file, then the default.
/// The file's keys are serve's long option names (`idle-timeout = 60`, `no-fast-path = true`) at the
/// top level; an unknown key, a table or a value of the wrong type is an error naming it, so a typo
/// never leaves a setting silently at its default.
struct ServeSettings: Sendable {
    enum Kind: Sendable { case text, integer, flag }

    /// One setting: its option's long name, what its value is, its environment variable.
    struct Setting: Sendable {
        let name: String
        let kind: Kind
        let environment: String

        init(_ name: String, _ kind: Kind, environment: String? = nil) {
            self.name = name
            self.kind = kind
            self.environment = environment ?? "MFA_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    /// Every option of `serve` (a test checks this against `mfactl serve --help`). The store's two
    /// keep the environment variables every command reads.
    static let all: [Setting] = [
        Setting("db", .text, environment: "MFACTL_DB"), Setting("key-file", .text, environment: "MFACTL_KEY_FILE"),
        Setting("listen", .text), Setting("tls-cert", .text), Setting("tls-key", .text),
        Setting("totp-window", .integer), Setting("hotp-look-ahead", .integer), Setting("lockout-threshold", .integer),
        Setting("lockout-decay", .integer), Setting("api-key-cache", .integer), Setting("event-loops", .integer),
        Setting("admin-key-file", .text), Setting("idle-timeout", .integer), Setting("request-timeout", .integer),
        Setting("pending-lifetime", .text), Setting("max-connections", .integer), Setting("access-log", .text),
        Setting("shutdown-timeout", .integer), Setting("no-fast-path", .flag),
    ]

    /// The settings file named by the command line or `MFA_CONFIG`, if any.
    let file: String?
    /// The arguments ArgumentParser parses: the command line's, with what the environment and the
    /// file set added as `--name=value` (the `=` form, so a value may start with `-`).
    let arguments: [String]
    /// The settings taken from the file, and the environment variables taken, for the start-up line.
    let fromFile: [String]
    let fromEnvironment: [String]

    /// What `main` resolved for this process's command line (nil until then, or for other commands):
    /// `serve` prints its summary from it rather than reading the file a second time.
    static let startup = Mutex<ServeSettings?>(nil)

    /// `arguments` (without the program name) as ArgumentParser should see them: unchanged unless
    /// they run `serve` (and not its help).
    static func resolve(_ arguments: [String], environment: [String: String]) throws(CLIError) -> ServeSettings {
        guard arguments.first == "serve", !arguments.contains(where: { ["-h", "--help", "--experimental-dump-help"].contains($0) }) else {
            return ServeSettings(file: nil, arguments: arguments, fromFile: [], fromEnvironment: [])
        }
        let given = givenOptions(arguments)
        let file = try configPath(arguments) ?? environment["MFA_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let values = try file.map { (path: String) throws(CLIError) in try read(path) } ?? [:]
        var added: [String] = [], fromFile: [String] = [], fromEnvironment: [String] = []
        for setting in all where !given.contains(setting.name) {
            if let text = environment[setting.environment], !text.isEmpty {
                if let argument = try option(setting, environmentValue: text) { added.append(argument) }
                fromEnvironment.append(setting.environment)
            } else if let value = values[setting.name] {
                if let argument = value { added.append(argument) }
                fromFile.append(setting.name)
            }
        }
        return ServeSettings(file: file, arguments: ["serve"] + added + arguments.dropFirst(), fromFile: fromFile, fromEnvironment: fromEnvironment)
    }

    /// The long names of the options on the command line (`--name value`, `--name=value`), up to `--`.
    static func givenOptions(_ arguments: [String]) -> Set<String> {
        var names = Set<String>()
        for argument in arguments.dropFirst() {
            if argument == "--" { break }
            guard argument.hasPrefix("--") else { continue }
            let name = String(argument.dropFirst(2).prefix { $0 != "=" })
            // `--fast-path` is the other side of the `no-fast-path` setting.
            names.insert(name == "fast-path" ? "no-fast-path" : name)
        }
        return names
    }

    /// `--config`'s value on the command line (the last one given), if any.
    static func configPath(_ arguments: [String]) throws(CLIError) -> String? {
        var path: String?
        var index = arguments.startIndex
        while index < arguments.endIndex, arguments[index] != "--" {
            let argument = arguments[index]
            if argument == "--config" {
                guard index + 1 < arguments.endIndex else { throw CLIError("--config needs a file") }
                path = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
            }
            index += 1
        }
        return path
    }

    /// The options a settings file sets, by long name (nil: a flag set to false).
    static func read(_ path: String) throws(CLIError) -> [String: String?] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("--config \(path): cannot read it (\(FileManager.default.fileExists(atPath: path) ? "permission denied, or a directory" : "no such file"))")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw CLIError("--config \(path): not UTF-8 text") }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw CLIError("--config \(path): line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw CLIError("--config \(path): not TOML (\(error))")
        }
        var values: [String: String?] = [:]
        for key in table.keys.sorted() {
            guard let setting = all.first(where: { $0.name.hasSameBytes(as: key) }) else {
                if table[key]?.type == .table {
                    throw CLIError("--config \(path): [\(key)] is a table; serve's settings go at the top level, before any [table]")
                }
                let hint = all.first { $0.name.hasSameBytes(as: key.lowercased().replacingOccurrences(of: "_", with: "-")) }
                throw CLIError("--config \(path): unknown setting '\(key)'" + (hint.map { " (did you mean '\($0.name)'?)" } ?? "")
                    + "; the settings are serve's long options: " + all.map(\.name).joined(separator: ", "))
            }
            values[setting.name] = try option(setting, fileValue: table[key]!, in: path)
        }
        return values
    }

    /// The `--name=value` option of a file's value (nil: a flag set to false).
    private static func option(_ setting: Setting, fileValue value: any TOMLValueConvertible, in path: String) throws(CLIError) -> String? {
        func wrong(_ expected: String) -> CLIError {
            CLIError("--config \(path): '\(setting.name)' must be \(expected), not a \(value.type == .table ? "table" : "\(value.type)")")
        }
        switch setting.kind {
        case .flag:
            guard let flag = value.bool else { throw wrong("true or false") }
            return flag ? "--\(setting.name)" : nil
        case .integer:
            guard value.type == .int, let number = value.int else { throw wrong("a whole number") }
            return "--\(setting.name)=\(number)"
        case .text:
            // A length of time may be written as seconds too.
            if setting.name == "pending-lifetime", value.type == .int, let number = value.int { return "--\(setting.name)=\(number)" }
            guard value.type == .string, let text = value.string else { throw wrong("a string") }
            return "--\(setting.name)=\(text)"
        }
    }

    /// The `--name=value` option of an environment variable's value (nil: a flag turned off).
    private static func option(_ setting: Setting, environmentValue text: String) throws(CLIError) -> String? {
        switch setting.kind {
        case .flag:
            switch text.lowercased() {
            case "1", "true", "yes", "on": return "--\(setting.name)"
            case "0", "false", "no", "off": return nil
            default: throw CLIError("\(setting.environment) must be true or false (1/0, yes/no), got '\(text)'")
            }
        case .integer:
            guard Int(text) != nil else { throw CLIError("\(setting.environment) must be a whole number, got '\(text)'") }
            return "--\(setting.name)=\(text)"
        case .text:
            return "--\(setting.name)=\(text)"
        }
    }

    /// One line for the start-up output: where settings came from besides the command line.
    var summary: String? {
        var parts: [String] = []
        if let file { parts.append("\(file)" + (fromFile.isEmpty ? " (no settings)" : ": " + fromFile.joined(separator: ", "))) }
        if !fromEnvironment.isEmpty { parts.append("environment: " + fromEnvironment.joined(separator: ", ")) }
        return parts.isEmpty ? nil : "settings from " + parts.joined(separator: "; ")
    }
}
