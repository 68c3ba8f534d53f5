import Foundation
import MFA
import Synchronization
import Testing

/// The vault key file (issue 16, item 5): created 0600 whole, and one key for everyone who races to
/// create it.
@Suite("Vault key file: one key for racing creators, 0600 from the start")
struct VaultKeyFileTests {
    @Test("16 threads open a missing key file at once: one key, the file's")
    func racingCreators() throws {
        for round in 0..<5 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-vault-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("keys/vault.key").path
            let ids = Mutex<[[UInt8]]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                if let vault = try? SecretVault(keyFile: path, create: true) { ids.withLock { $0.append(vault.keyID) } }
            }
            let reopened = try SecretVault(keyFile: path, create: false)
            let all = ids.withLock { $0 }
            #expect(all.count == 16 && all.allSatisfy { $0 == reopened.keyID }, "round \(round): \(Set(all.map { $0.description }).count) keys")
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent) == ["vault.key"])
        }
    }

    @Test("PrivateFile.create: exactly one of many writers wins, and the file holds its bytes")
    func oneWinner() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-private-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let winners = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            if (try? PrivateFile.create(path, contents: Array("writer \(i)\n".utf8))) == true { winners.withLock { $0.append(i) } }
        }
        let won = winners.withLock { $0 }
        #expect(won.count == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "writer \(won.first ?? -1)\n")
    }
}
