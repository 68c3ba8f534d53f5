import Foundation
import TestSupport
import Testing

/// Every committed fuzz input — the corpora `scripts/fuzz.sh` starts from and the reproducers of
/// crashes it found (`Tests/Fixtures/fuzz/crashes/TARGET/`) — replayed through its target's checks on
/// every test run, so a fixed bug stays fixed (issue 16, item 6).
@Suite("Fuzz corpora and crash reproducers replayed")
struct FuzzCorpusTests {
    static let targets = ["scanner", "verify-json", "pskc", "csv", "otpauth", "codecs", "apdu", "hid"]
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")

    @Test("each target keeps its properties on its corpus and its reproducers", arguments: targets)
    func replay(_ target: String) async throws {
        let corpus = Self.fixtures.appendingPathComponent(target).path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus)
        #expect(inputs.count >= 2, "the \(target) corpus should have seeds")
        var paths = [corpus]
        let crashes = Self.fixtures.appendingPathComponent("crashes/\(target)").path
        if FileManager.default.fileExists(atPath: crashes) { paths.append(crashes) }
        let result = try await TestTools.run(TestTools.product("mfa-fuzz"), ["replay", target] + paths, timeout: 120)
        #expect(result.status == 0 && result.stdout.contains("every property held"), "\(target): \(result.stdout) \(result.stderr)")
    }

    @Test("the replay tool refuses an unknown target and a missing path")
    func usage() async throws {
        let unknown = try await TestTools.run(TestTools.product("mfa-fuzz"), ["replay", "nope", "."])
        #expect(unknown.status == 2 && unknown.stderr.contains("targets:"))
        let missing = try await TestTools.run(TestTools.product("mfa-fuzz"), ["replay", "scanner", "/nonexistent-corpus"])
        #expect(missing.status == 2 && missing.stderr.contains("no such file"))
    }
}
