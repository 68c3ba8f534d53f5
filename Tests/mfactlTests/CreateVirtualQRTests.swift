import Foundation
import TestSupport
import Testing

/// `mfa create-virtual --qr png:FILE` (issue 17, bug 4): a PNG that cannot be written is found out
/// before a device exists, the error names the file the admin gave (not a temporary one), and no
/// pending device is left behind.
@Suite("create-virtual --qr png: checked first, all or nothing")
struct CreateVirtualQRTests {
    @Test("a missing directory, an unwritable one or an existing file: a clear error and no device; a good path: the PNG, 0600")
    func pngPath() async throws {
        let store = try LocalStore("mfa-qr")
        let directory = store.directory
        let mfactl = store.mfactl
        let readOnly = directory.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        let existing = directory.appendingPathComponent("taken.png").path
        try #require(FileManager.default.createFile(atPath: existing, contents: Data("x".utf8)))
        let bad: [(path: String, message: String)] = [
            (directory.appendingPathComponent("nowhere/qr.png").path, "does not exist"),
            (existing, "exists"),
        ] + (getuid() == 0 ? [] : [(readOnly + "/qr.png", "is not writable")])  // root may write anywhere
        for (path, message) in bad {
            let result = try await mfactl(["mfa", "create-virtual", "--user", "ann", "--qr", "png:" + path])
            #expect(result.status != 0 && result.stderr.contains(path) && result.stderr.contains(message), "\(path): \(result.stderr)")
            #expect(!result.stderr.contains(".tmp"), "\(result.stderr)")
            #expect(!result.stdout.contains("secret"), "a seed was shown for a device that should not exist: \(result.stdout)")
        }
        let good = directory.appendingPathComponent("ann.png").path
        let made = try await mfactl(["mfa", "create-virtual", "--user", "ann", "--qr", "png:" + good, "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: good)[.posixPermissions] as? Int == 0o600)
        let listed = try await mfactl(["mfa", "list", "--user", "ann", "--json"])
        #expect(listed.stdout.components(separatedBy: "\"serial\"").count == 2, "exactly the one good device: \(listed.stdout)")
    }
}
