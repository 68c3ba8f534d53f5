import Foundation

/// Secrets given as files (`--psk-file`, `--password-file`) rather than on the command line, where
/// `ps` and shell history would show them: the first line, without its line end.
enum SecretFile {
    static func firstLine(_ path: String, option: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(option) \(path): cannot read it (\(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"))")
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let value = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        guard !value.isEmpty else { throw CLIError("\(option) \(path): the first line is empty") }
        return value
    }
}
