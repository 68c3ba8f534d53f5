import Foundation
import OTP
import TestSupport
import Testing

/// Issue 17: import output an admin can read: a re-import of many keys is a few count lines, not one
/// line per key; a plaintext file gets the advice to delete it; the PSK can come from a file.
@Suite("tokens import output: summaries for large files, plaintext advice, --psk-file")
struct ImportOutputTests {
    @Test("250 CSV keys: imported with the delete-this-file advice; re-imported as one skipped-count line")
    func largeReimport() async throws {
        let store = try LocalStore("mfa-import-output")
        let csv = store.directory.appendingPathComponent("batch.csv").path
        let rows = (1...250).map { "OUT-\($0),\(Hex.encode(LibCrypto.randomBytes(20))),totp,6,30" }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: csv))

        let first = try await store.mfactl(["tokens", "import", csv])
        #expect(first.status == 0, "\(first.stderr)")
        let firstLines = first.stdout.split(separator: "\n")
        #expect(firstLines.count == 3 && !first.stdout.contains("#1\t"), "\(first.stdout)")
        #expect(first.stdout.contains("250 keys: 250 imported, 0 skipped, 0 rejected"), "\(first.stdout)")
        #expect(firstLines.last == "the seeds in \(csv) are in plaintext and now sealed in the store: delete the file and its copies (shred -u \(csv))")

        let again = try await store.mfactl(["tokens", "import", csv])
        #expect(again.status == 0, "\(again.stderr)")
        let lines = again.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(again.stdout)")
        #expect(lines.first?.hasPrefix("250 keys skipped (") == true, "\(lines)")
        #expect(again.stdout.contains("250 keys: 0 imported, 250 skipped, 0 rejected") && !again.stdout.contains("shred"), "\(again.stdout)")
        // --json still lists every key.
        let json = try await TokensImportTests.json(try await store.mfactl(["tokens", "import", csv, "--json"]))
        #expect((json["keys"] as? [Any])?.count == 250)
    }

    @Test("--psk-file reads the transport key (first line); a missing file and two sources are refused; no plaintext advice for an encrypted file")
    func pskFile() async throws {
        let store = try LocalStore("mfa-import-pskfile")
        let pskc = try TokensImportTests.writeFile([.init(serial: "PSK-1", seedHex: Hex.encode(LibCrypto.randomBytes(20)), type: "totp")], in: store.directory)
        let keyFile = store.directory.appendingPathComponent("transport.key").path
        try Data((TokensImportTests.psk + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
        let imported = try await store.mfactl(["tokens", "import", pskc, "--psk-file", keyFile])
        #expect(imported.status == 0 && imported.stdout.contains("1 keys: 1 imported") && !imported.stdout.contains("shred"), "\(imported.stdout) \(imported.stderr)")
        let missing = try await store.mfactl(["tokens", "import", pskc, "--psk-file", keyFile + ".missing"])
        #expect(missing.status == 2 && missing.stderr.contains("--psk-file") && missing.stderr.contains("no such file"), "\(missing.stderr)")
        let both = try await store.mfactl(["tokens", "import", pskc, "--psk-file", keyFile, "--psk", TokensImportTests.psk])
        #expect(both.status == 2 && both.stderr.contains("at most one"), "\(both.stderr)")
    }
}
