#if canImport(Glibc)
import Glibc
#endif

/// The command line of a benchmark executable. Benchmarks run for minutes, so `--help` must print the
/// usage and run nothing, and a mistyped option must stop them at once (exit 64, the usage error of
/// `sysexits.h`) instead of silently measuring with the defaults.
public struct BenchArguments: Sendable {
    private let values: [String: String]
    private let flags: Set<String>

    /// Parses `CommandLine.arguments`: `flags` take no value, `options` take one (an integer unless
    /// read with ``string(_:)``). Exits on `--help` (0) and on anything else (64).
    public init(usage: String, flags allowedFlags: Set<String>, options: Set<String>, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        var values: [String: String] = [:]
        var flags = Set<String>()
        var index = 0
        func fail(_ message: String) -> Never {
            Self.write(2, "\(message)\n\(usage)\n")
            exit(64)
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" {
                Self.write(1, usage + "\n")
                exit(0)
            } else if allowedFlags.contains(argument) {
                flags.insert(argument)
            } else if options.contains(argument) {
                guard index + 1 < arguments.count else { fail("\(argument) needs a value") }
                values[argument] = arguments[index + 1]
                index += 1
            } else {
                fail("unknown option \(argument)")
            }
            index += 1
        }
        self.values = values
        self.flags = flags
    }

    /// Whether the flag was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The option's value, if given.
    public func string(_ name: String) -> String? { values[name] }

    /// The option's integer value (at least `minimum`), or `fallback` when absent; exits 64 when it is not one.
    public func int(_ name: String, _ fallback: Int, minimum: Int = 0) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), value >= minimum else {
            Self.write(2, "\(name) takes an integer of at least \(minimum), not \(text)\n")
            exit(64)
        }
        return value
    }

    private static func write(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }
}
