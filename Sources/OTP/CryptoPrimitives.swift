import COpenSSL

/// Thin wrappers over OpenSSL for protocol code (the OATH applet's password handshake, challenges).
/// The hot OTP paths use ``OTPKey`` instead. Named for the library it wraps (`Crypto` is swift-crypto's
/// module name).
public enum LibCrypto {
    /// HMAC(key, message) through OpenSSL's `HMAC()`.
    public static func hmac(_ algorithm: HashAlgorithm, key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = keyBytes.withUnsafeBufferPointer { k in
            messageBytes.withUnsafeBufferPointer { m in
                mfa_reference_hmac(algorithm.cIdentifier, k.baseAddress, k.count, m.baseAddress, m.count, &out, &length)
            }
        }
        precondition(ok == 1, "OpenSSL HMAC failed")
        return Array(out.prefix(Int(length)))
    }

    /// A digest of `data` (used to shorten keys longer than the hash block, as RFC 2104 does).
    public static func digest(_ algorithm: HashAlgorithm, _ data: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(data)
        var out = [UInt8](repeating: 0, count: algorithm.digestBytes)
        bytes.withUnsafeBufferPointer { b in
            switch algorithm {
            case .sha1: _ = SHA1(b.baseAddress, b.count, &out)
            case .sha256: _ = SHA256(b.baseAddress, b.count, &out)
            case .sha512: _ = SHA512(b.baseAddress, b.count, &out)
            }
        }
        return out
    }

    /// PBKDF2-HMAC-SHA1 (`PKCS5_PBKDF2_HMAC_SHA1`), as the YKOATH password key derivation uses it.
    public static func pbkdf2SHA1(password: String, salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let passwordBytes = Array(password.utf8)
        let ok = passwordBytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { pc in
                PKCS5_PBKDF2_HMAC_SHA1(pc.baseAddress, Int32(pc.count), salt, Int32(salt.count), Int32(iterations), Int32(length), &out)
            }
        }
        precondition(ok == 1, "OpenSSL PBKDF2 failed")
        return out
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }

    /// Compares without an early exit (`CRYPTO_memcmp`); lengths may leak.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && CRYPTO_memcmp(a, b, a.count) == 0
    }

    /// Overwrites `bytes` with zeros in a way the optimizer keeps (`OPENSSL_cleanse`).
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}
