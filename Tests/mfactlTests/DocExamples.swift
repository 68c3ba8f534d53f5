import Foundation
import TestSupport
import Testing

/// One fenced block of the README or `Docs/`, named by the `<!-- example: ID -->` comment on the line
/// above its opening fence. The comment is invisible when the Markdown is rendered; the tests in
/// `DocExamplesTests` know how to run (or check) every ID, so an example cannot drift from the code.
struct DocBlock: Sendable, CustomStringConvertible {
    let file: String
    let line: Int
    let id: String?
    let info: String
    let text: String

    var description: String { "\(file):\(line) (\(id ?? "no example marker"))" }

    /// The block's commands: a line ending in `\` joins the next, blank lines are dropped.
    var commands: [String] {
        var result: [String] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            let continues = line.hasSuffix("\\")
            if continues { line.removeLast() }
            pending += pending.isEmpty ? line : " " + line.trimmingCharacters(in: .whitespaces)
            if !continues {
                if !pending.trimmingCharacters(in: .whitespaces).isEmpty { result.append(pending) }
                pending = ""
            }
        }
        return result
    }
}

/// The README and every page of `Docs/`, read once.
enum DocPages {
    static let root = TestTools.packageRoot

    /// Paths relative to the package root.
    static var files: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "Docs/" + $0 }
    }

    static func text(_ file: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
    }

    /// Every fenced block of every page.
    static func blocks() throws -> [DocBlock] {
        var blocks: [DocBlock] = []
        for file in files {
            let lines = try text(file).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var index = 0
            while index < lines.count {
                guard lines[index].hasPrefix("```") else { index += 1; continue }
                let info = String(lines[index].dropFirst(3)).trimmingCharacters(in: .whitespaces)
                let marker = index > 0 ? Self.marker(lines[index - 1]) : nil
                var end = index + 1
                while end < lines.count && !lines[end].hasPrefix("```") { end += 1 }
                let body = lines[(index + 1)..<min(end, lines.count)].joined(separator: "\n")
                blocks.append(DocBlock(file: file, line: index + 1, id: marker, info: info, text: body))
                index = end + 1
            }
        }
        return blocks
    }

    /// The block named `id` (exactly one must exist).
    static func block(_ id: String) throws -> DocBlock {
        let matching = try blocks().filter { $0.id == id }
        try #require(matching.count == 1, "expected one block marked '<!-- example: \(id) -->', found \(matching.count)")
        return matching[0]
    }

    /// `ID` of a line `<!-- example: ID -->`, else nil.
    static func marker(_ line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<!-- example:"), trimmed.hasSuffix("-->") else { return nil }
        return String(trimmed.dropFirst("<!-- example:".count).dropLast(3)).trimmingCharacters(in: .whitespaces)
    }

    /// Every inline code span outside fenced blocks that starts with `prefix` (`mfactl `, …).
    static func inlineSpans(startingWith prefix: String) throws -> [(file: String, span: String)] {
        var spans: [(String, String)] = []
        for file in files {
            var inFence = false
            for line in try text(file).split(separator: "\n") {
                if line.hasPrefix("```") { inFence.toggle(); continue }
                if inFence { continue }
                let parts = line.split(separator: "`", omittingEmptySubsequences: false)
                for (i, part) in parts.enumerated() where i % 2 == 1 && part.hasPrefix(prefix) {
                    spans.append((file, String(part)))
                }
            }
        }
        return spans
    }
}

/// A shell for running documented commands as an admin would type them: `bash -c` in a working
/// directory, the built products first on PATH (so `mfactl` is this build), `export` lines kept for
/// the following lines, and the placeholders of the text replaced by real values.
final class DocShell: @unchecked Sendable {
    let directory: URL
    private(set) var environment: [String: String]
    /// The jobs started by lines ending in `&`, in order.
    private(set) var background: [BackgroundProcess] = []

    init(directory: URL, environment: [String: String] = [:]) {
        self.directory = directory
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        self.environment = ["PATH": TestTools.productsDirectory.path + ":" + path].merging(environment) { $1 }
    }

    /// Runs one documented line after replacing each placeholder (in order); `export` lines only set
    /// the environment. Records an issue, with the line, when the exit status is not `expect`.
    @discardableResult
    func run(_ line: String, replacing replacements: [(String, String)] = [], expect: Int32 = 0, timeout: TimeInterval = 120) async throws -> ProcessResult {
        var command = line
        for (placeholder, value) in replacements {
            try #require(command.contains(placeholder), "the documented line no longer holds '\(placeholder)': \(line)")
            command = command.replacingOccurrences(of: placeholder, with: value)
        }
        if command.hasPrefix("export ") {
            // Evaluated by bash (values may be `$(mktemp -d)`), then the exported names kept.
            let names = command.matches(of: /([A-Za-z_][A-Za-z0-9_]*)=/).map { String($0.output.1) }
            let result = try await TestTools.run(
                "/bin/bash", ["-c", "cd \"$1\" && eval \"$2\" && env -0", "doc", directory.path, command], environment: environment)
            try #require(result.status == 0, "documented line failed: \(command)\n\(result.stderr)")
            for entry in result.stdout.split(separator: "\0") {
                let pair = entry.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2, names.contains(pair[0]) { environment[pair[0]] = pair[1] }
            }
            return result
        }
        let code = command.replacing(/\s+#\s.*$/, with: "").trimmingCharacters(in: .whitespaces)
        if code.hasSuffix("&") {
            // A documented background job (a virtual card): kept running until `stopBackground()`.
            let job = try BackgroundProcess(
                "/bin/bash", ["-c", "cd \"$1\" && exec \(code.dropLast())", "doc", directory.path], environment: environment)
            background.append(job)
            return ProcessResult(status: 0, signaled: false, stdout: "", stderr: "")
        }
        let result = try await TestTools.run(
            "/bin/bash", ["-c", "cd \"$1\" && eval \"$2\"", "doc", directory.path, command],
            environment: environment, timeout: timeout)
        #expect(result.status == expect, "documented line exited \(result.status), expected \(expect): \(command)\n\(result.stdout)\n\(result.stderr)")
        return result
    }
}

extension DocShell {
    /// Stops the background jobs (SIGTERM, as an admin's `kill %1`), newest first.
    func stopBackground() {
        for job in background.reversed() { job.stop() }
    }
}

/// `mfactl … --help`, parsed for the checks of documented synopses.
enum MFACtlHelp {
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    private static let lock = NSLock()

    /// The help text of `tool path… --help` (cached).
    static func help(_ tool: String, _ path: [String]) async throws -> String {
        let key = ([tool] + path).joined(separator: " ")
        if let text = lock.withLock({ cache[key] }) { return text }
        let result = try await TestTools.run(TestTools.product(tool), path + ["--help"])
        try #require(result.status == 0, "\(key) --help exited \(result.status): \(result.stderr)")
        lock.withLock { cache[key] = result.stdout }
        return result.stdout
    }

    /// The subcommand names listed under `SUBCOMMANDS:` in a help text.
    static func subcommands(_ help: String) -> Set<String> {
        guard let range = help.range(of: "SUBCOMMANDS:") else { return [] }
        var names = Set<String>()
        for line in help[range.upperBound...].split(separator: "\n") {
            // "  name    description": a name in the first column; wrapped descriptions are indented further.
            if let match = line.wholeMatch(of: /\ \ ([a-z][a-z0-9-]*)(?:\s{2,}.*)?/) { names.insert(String(match.output.1)) }
        }
        return names
    }

    /// The help texts of `path` and every subcommand below it, joined.
    static func allHelp(_ tool: String, _ path: [String]) async throws -> String {
        let text = try await help(tool, path)
        var all = text
        guard path.count < 4 else { return all }
        for name in subcommands(text).sorted() where name != "help" { all += try await allHelp(tool, path + [name]) }
        return all
    }

    /// Checks one documented command line of `tool`: its subcommand words exist, and every `--option`
    /// it shows is in that subcommand's help. Returns the subcommand path.
    @discardableResult
    static func check(_ tool: String, line: String, source: String) async throws -> [String] {
        var words = line.split(separator: " ").map(String.init)
        if words.first == tool { words.removeFirst() }
        var path: [String] = []
        var text = try await help(tool, path)
        for word in words {
            guard subcommands(text).contains(word) else { break }
            path.append(word)
            text = try await help(tool, path)
        }
        let code = line.split(separator: "#", maxSplits: 1).first.map(String.init) ?? line
        let options = code.matches(of: /--[a-z][a-z0-9-]*/).map { String($0.output) }
        // `mfactl … --db X` stands for any subcommand: the option must be one of some subcommand.
        if path.isEmpty, words.first == "…" { text = try await allHelp(tool, []) }
        for option in options where option != "--help" {
            let listed = text.range(of: NSRegularExpression.escapedPattern(for: option) + "(?![a-z0-9-])", options: .regularExpression) != nil
            #expect(listed, "\(source): `\(line)` shows \(option), which `\(([tool] + path).joined(separator: " ")) --help` does not list")
        }
        return path
    }
}
