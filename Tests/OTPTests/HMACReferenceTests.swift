import COpenSSL
import OTP
import TestSupport
import Testing

/// The key schedule (precomputed inner/outer states, two compressions per code) must equal OpenSSL's
/// own one-shot HMAC() for every key length, including keys longer than the hash block.
@Suite("HMAC from precomputed states equals OpenSSL HMAC()")
struct HMACReferenceTests {
    @Test(arguments: HashAlgorithm.allCases)
    func randomKeysAndCounters(algorithm: HashAlgorithm) throws {
        let seed = SeededGenerator.seedFromEnvironment()
        var rng = SeededGenerator(seed: seed)
        for keyLength in [1, 10, 19, 20, 32, 63, 64, 65, 100, 127, 128, 129, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let otpKey = OTPKey(secret: try OTPSecret(bytes: key), algorithm: algorithm)
            for _ in 0..<20 {
                let counter = UInt64.random(in: 0...UInt64.max, using: &rng)
                var message = [UInt8](repeating: 0, count: 8)
                for i in 0..<8 { message[i] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(i))) }
                var reference = [UInt8](repeating: 0, count: 64)
                var length: UInt32 = 0
                let ok = mfa_reference_hmac(
                    algorithm.cIdentifierForTests, key, key.count, message, message.count, &reference, &length)
                #expect(ok == 1)
                #expect(
                    otpKey.hmac(counter: counter) == Array(reference.prefix(Int(length))),
                    "seed \(seed), key length \(keyLength), counter \(counter)")
            }
        }
    }
}

extension HashAlgorithm {
    var cIdentifierForTests: Int32 {
        switch self {
        case .sha1: Int32(MFA_HASH_SHA1)
        case .sha256: Int32(MFA_HASH_SHA256)
        case .sha512: Int32(MFA_HASH_SHA512)
        }
    }
}
