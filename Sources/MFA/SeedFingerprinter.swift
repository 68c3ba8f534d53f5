import COpenSSL
import OTP

/// Keyed fingerprints of seeds: HMAC-SHA-256 under a key derived from the vault key, so duplicate
/// seeds are found by comparing fingerprints, never plaintext, and a fingerprint copied out of the
/// database says nothing without the vault key.
///
/// A vault key rotation changes the fingerprint key: fingerprints stored before a rotation no longer
/// match new ones (duplicate detection against those older devices is lost, nothing else).
public struct SeedFingerprinter: Sendable {
    private let key: [UInt8]

    public init(vault: SecretVault) { key = vault.derivedKey("seed-fingerprint/v1") }

    /// The fingerprint of `secret` (32 bytes). The seed is read in place, never copied.
    public func fingerprint(_ secret: OTPSecret) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = secret.withUnsafeBytes { seed in
            mfa_reference_hmac(Int32(MFA_HASH_SHA256), key, key.count, seed.baseAddress!.assumingMemoryBound(to: UInt8.self), seed.count, &out, &length)
        }
        precondition(ok == 1, "OpenSSL HMAC failed")
        return Array(out.prefix(Int(length)))
    }
}
