import COpenSSL
import OTP

/// The XML Encryption / XML Signature algorithms a PSKC file may name, and their OpenSSL calls.
/// Plaintext results are returned in arrays the callers wipe (``LibCrypto/wipe(_:)``) once used.
enum TransportCrypto {
    enum Cipher: Equatable {
        case cbc(keyBytes: Int)
        case keyWrap(keyBytes: Int)
    }

    /// `http://www.w3.org/2001/04/xmlenc#aes128-cbc` …, `…#kw-aes256`.
    static func cipher(_ uri: String) -> Cipher? {
        guard let fragment = uri.split(separator: "#").last else { return nil }
        switch fragment {
        case "aes128-cbc": return .cbc(keyBytes: 16)
        case "aes192-cbc": return .cbc(keyBytes: 24)
        case "aes256-cbc": return .cbc(keyBytes: 32)
        case "kw-aes128": return .keyWrap(keyBytes: 16)
        case "kw-aes192": return .keyWrap(keyBytes: 24)
        case "kw-aes256": return .keyWrap(keyBytes: 32)
        default: return nil
        }
    }

    /// `http://www.w3.org/2000/09/xmldsig#hmac-sha1`, `http://www.w3.org/2001/04/xmldsig-more#hmac-sha256`, ….
    static func macAlgorithm(_ uri: String) -> HashAlgorithm? {
        switch uri.split(separator: "#").last {
        case "hmac-sha1": .sha1
        case "hmac-sha256": .sha256
        case "hmac-sha512": .sha512
        default: nil
        }
    }

    /// Decrypts `data` with `key`; nil when the key has the wrong size, the padding or the unwrap
    /// integrity check fails.
    static func decrypt(_ cipher: Cipher, key: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(data.count, 16))
        var length = 0
        let ok: Int32
        switch cipher {
        case .cbc(let keyBytes):
            guard key.count == keyBytes else { return nil }
            ok = mfa_aes_cbc_decrypt(key, key.count, data, data.count, &out, &length)
        case .keyWrap(let keyBytes):
            guard key.count == keyBytes else { return nil }
            // RFC 3394 for multiples of 8 bytes; RFC 5649 (padded) for other lengths, as writers choose.
            var unwrapped = mfa_aes_key_unwrap(key, key.count, 0, data, data.count, &out, &length)
            if unwrapped != 1 { unwrapped = mfa_aes_key_unwrap(key, key.count, 1, data, data.count, &out, &length) }
            ok = unwrapped
        }
        guard ok == 1 else {
            LibCrypto.wipe(&out)
            return nil
        }
        let result = Array(out.prefix(length))
        LibCrypto.wipe(&out)
        return result
    }

    /// AES-CBC with PKCS#7 padding and a random IV: `IV ‖ ciphertext` (for writing test and benchmark files).
    static func encryptCBC(key: [UInt8], _ plaintext: [UInt8], iv: [UInt8] = LibCrypto.randomBytes(16)) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + 32)
        var length = 0
        precondition(mfa_aes_cbc_encrypt(key, key.count, iv, plaintext, plaintext.count, &out, &length) == 1, "AES-CBC encryption failed")
        return Array(out.prefix(length))
    }

    /// AES key wrap (RFC 3394) of a multiple of 8 bytes (for tests).
    static func wrap(key: [UInt8], _ plaintext: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length = 0
        guard mfa_aes_key_wrap(key, key.count, plaintext, plaintext.count, &out, &length) == 1 else { return nil }
        return Array(out.prefix(length))
    }

    /// PBKDF2 with an HMAC PRF.
    static func pbkdf2(password: String, salt: [UInt8], iterations: Int, length: Int, prf: HashAlgorithm) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let passwordBytes = Array(password.utf8)
        let ok = mfa_pbkdf2(prf.cHash, passwordBytes, passwordBytes.count, salt, salt.count, UInt32(iterations), &out, length)
        precondition(ok == 1, "OpenSSL PBKDF2 failed")
        return out
    }

    /// SHA-256 of `bytes`, in chunks (fingerprints of large files).
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var state = mfa_sha256_stream()
        mfa_sha256_stream_init(&state)
        var offset = 0
        while offset < bytes.count {
            let n = min(1 << 20, bytes.count - offset)
            mfa_sha256_stream_update(&state, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self), n)
            offset += n
        }
        var out = [UInt8](repeating: 0, count: 32)
        mfa_sha256_stream_final(&state, &out)
        return out
    }
}

extension HashAlgorithm {
    var cHash: Int32 {
        switch self {
        case .sha1: Int32(MFA_HASH_SHA1)
        case .sha256: Int32(MFA_HASH_SHA256)
        case .sha512: Int32(MFA_HASH_SHA512)
        }
    }
}
