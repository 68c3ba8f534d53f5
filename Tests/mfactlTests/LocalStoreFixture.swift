import Foundation
import TestSupport

/// A fresh directory for one test, holding a local SQLite store and its vault key: `mfactl` runs on
/// it with `--db` and `--key-file`. The directory goes when the fixture does.
final class LocalStore {
    let directory: URL
    /// `--db sqlite:… --key-file …` for this store.
    let arguments: [String]

    init(_ prefix: String = "mfa-local") throws {
        directory = try Self.freshDirectory(prefix)
        arguments = ["--db", "sqlite:" + directory.appendingPathComponent("mfa.sqlite").path, "--key-file", directory.appendingPathComponent("vault.key").path]
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// `mfactl arguments… --db … --key-file …`.
    func mfactl(_ arguments: [String]) async throws -> ProcessResult {
        try await TestTools.run(TestTools.product("mfactl"), arguments + self.arguments)
    }

    /// A new empty directory under the temporary directory (the caller removes it).
    static func freshDirectory(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
