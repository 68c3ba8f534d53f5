@testable import MFA
import Foundation
import OTP
import Testing

/// The in-process caches keyed by identities compare bytes (issue 16, item 1): two devices whose
/// serials are canonically equivalent never share an opened key, nor evict each other's.
@Suite("Caches keyed by identities: bytes, never canonical equivalence")
struct CacheKeyBytesTests {
    @Test("OpenedKeyCache: equivalent serials are separate entries, each opening to its own secret")
    func openedKeys() throws {
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        let cache = OpenedKeyCache()
        var devices: [(DeviceRecord, OTPSecret)] = []
        for (nfc, other, _) in EquivalentNames.pairs {
            for serial in [nfc, other] {
                let secret = try OTPSecret(bytes: LibCrypto.randomBytes(20))
                let device = DeviceRecord(serial: serial, kind: .virtualTOTP, owner: "u", state: .active, algorithm: .sha1, digits: 6, period: 30,
                                          counter: 0, sealedSecret: try vault.seal(secret, serial: serial), createdAt: 0)
                devices.append((device, secret))
            }
        }
        // Twice round: the second pass is served from the cache, which must still hold every entry.
        for _ in 0..<2 {
            for (device, secret) in devices {
                let key = try cache.key(for: device, vault: vault)
                let reference = try HOTP(secret: secret)  // from the plain secret, not through the cache
                #expect(try HOTP(key: key).code(counter: 7) == reference.code(counter: 7), "\(device.serial.unicodeScalars.map(\.value))")
            }
        }
        #expect(cache.count == devices.count)
    }
}
