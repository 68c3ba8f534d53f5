import ArgumentParser
import Foundation
import MFA
import SeedImport

/// `mfactl tokens import FILE`: a PSKC or CSV seed file into the inventory (see Docs/import.md).
struct TokensImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import hardware tokens from a PSKC (RFC 6030) or CSV seed file as unassigned inventory.",
        discussion: """
            Every key is checked before anything is stored; by default the import is all-or-nothing.
            Exit status: 0 everything imported or already present, 1 some keys rejected (with --partial
            the good ones are imported), 2 the file cannot be imported at all (or another error).
            """)

    @OptionGroup var backend: BackendOptions
    @Argument(help: "The seed file.") var file: String
    @Option(help: "pskc or csv (default: detected from the content).") var format: String?
    @Option(help: "Pre-shared transport key of an encrypted PSKC file, hex (AES-128/192/256).") var psk: String?
    @Option(help: "Passphrase of a PBKDF2-protected PSKC file.") var password: String?
    @Option(name: .customLong("psk-file"), help: "Read the pre-shared key (hex) from this file's first line.") var pskFile: String?
    @Option(name: .customLong("password-file"), help: "Read the passphrase from this file (first line).") var passwordFile: String?
    @Flag(help: "Import the good keys even when others are rejected.") var partial = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        var exitCode: Int32 = 0
        try await CLIOutput.run {
            var seedFormat: SeedFileFormat?
            if let format {
                guard let parsed = SeedFileFormat(rawValue: format) else { throw CLIError("--format must be pskc or csv") }
                seedFormat = parsed
            }
            guard [psk, pskFile, password, passwordFile].compactMap({ $0 }).count <= 1 else {
                throw CLIError("give at most one of --psk, --psk-file, --password, --password-file")
            }
            let passphrase = try passwordFile.map { try SecretFile.firstLine($0, option: "--password-file") } ?? password
            let key = try pskFile.map { try SecretFile.firstLine($0, option: "--psk-file").trimmingCharacters(in: .whitespaces) } ?? psk
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            let bar = ProgressBar.forStandardError()
            var progress: (@Sendable (ImportProgress) -> Void)?
            if let bar { progress = { bar.update($0) } }
            let report = try await backend.backend().importSeeds(
                file: [UInt8](data), format: seedFormat, psk: key, password: passphrase, partial: partial, progress: progress)
            bar?.finish()
            if json { try CLIOutput.printJSON(report) } else { Self.printReport(report, file: file) }
            if report.rejected > 0 || !report.committed { exitCode = 1 }
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    /// One line per key for small files; for large ones (a re-import of 10 000 tokens) the skipped
    /// keys as counts by reason and at most 100 other lines (`--json` has every key). Then the
    /// summary, and for a plaintext file whose seeds are now sealed in the store, the advice to delete it.
    static func printReport(_ report: ImportReport, file: String) {
        let everything = report.total <= 200
        var skipped: [String: Int] = [:]
        var listed = 0
        var notShown = 0
        for key in report.keys where key.status != .imported || !key.warnings.isEmpty || everything {
            if !everything, key.status == .skipped, key.warnings.isEmpty {
                skipped[key.reason.map { "\($0.code): \($0.message)" } ?? "skipped", default: 0] += 1
                continue
            }
            guard everything || listed < 100 else { notShown += 1; continue }
            var line = "#\(key.position)\t\(key.serial ?? "-")\t\(key.status.rawValue)"
            if let reason = key.reason { line += "\t\(reason.code): \(reason.message)" }
            for warning in key.warnings { line += "\twarning \(warning.code): \(warning.message)" }
            print(line)
            listed += 1
        }
        for (reason, count) in skipped.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            print("\(count) keys skipped (\(reason))")
        }
        if notShown > 0 { print("\(notShown) more keys rejected, held or with warnings are not shown: --json lists every key") }
        print("\(report.format) file sha256:\(report.fingerprint) (\(report.protection))")
        print(report.summary)
        if report.protection == "plaintext", report.committed, report.imported > 0 {
            print("the seeds in \(file) are in plaintext and now sealed in the store: delete the file and its copies (shred -u \(file))")
        }
    }
}

/// A progress bar on standard error, drawn only when it is a terminal, at most ten times a second.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false

    static func forStandardError() -> ProgressBar? { isatty(2) == 1 ? ProgressBar() : nil }

    func update(_ progress: ImportProgress) {
        lock.withLock {
            let now = Date()
            guard progress.phase == .done || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            var line = "\r\u{1B}[K" + progress.phase.rawValue
            if progress.total > 0 {
                let width = 30
                let filled = min(width, progress.done * width / max(progress.total, 1))
                line += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(progress.done)/\(progress.total)"
            } else if progress.done > 0 {
                line += " \(progress.done) keys"
            }
            FileHandle.standardError.write(Data(line.utf8))
            drawn = true
        }
    }

    func finish() {
        lock.withLock { if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
    }
}
