import COpenSSL
import Foundation
import OTP

/// Seals device secrets at rest with AES-256-GCM (OpenSSL EVP) under a key-encryption key (KEK).
///
/// A sealed secret is `01 ‖ key id (8) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`: a random nonce per seal,
/// the device serial bound as additional data (a sealed secret copied to another device's row does
/// not open), and the key id (first 8 bytes of SHA-256 of the KEK) so a wrong key file is reported
/// as such rather than as tampering. Plaintext exists only inside ``open(_:serial:)``'s result,
/// an ``OTPSecret`` that wipes itself.
public struct SecretVault: Sendable {
    private let key: [UInt8]
    /// Identifies the KEK without revealing it.
    public let keyID: [UInt8]

    static let version: UInt8 = 1
    static let headerBytes = 1 + 8 + 12

    /// A vault over a 32-byte key.
    public init(key: [UInt8]) throws(MFAError) {
        guard key.count == 32 else { throw MFAError(.vault, "a vault key has 32 bytes, got \(key.count)") }
        self.key = key
        self.keyID = Array(LibCrypto.digest(.sha256, key).prefix(8))
    }

    /// A vault whose key is in `path`: 64 hex characters (or 32 raw bytes). With `create`, a missing
    /// file is created with a new random key, mode 0600.
    public init(keyFile path: String, create: Bool) throws(MFAError) {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard create else { throw MFAError(.vault, "the vault key file \(path) does not exist") }
            var fresh = LibCrypto.randomBytes(32)
            defer { LibCrypto.wipe(&fresh) }
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            var text = Array((Hex.encode(fresh) + "\n").utf8)
            defer { LibCrypto.wipe(&text) }
            // Exactly one of several processes starting at once writes the key; the others read it.
            if try PrivateFile.create(path, contents: text) {
                try self.init(key: fresh)
                return
            }
        }
        guard let data = manager.contents(atPath: path) else { throw MFAError(.vault, "cannot read the vault key file \(path)") }
        if let attributes = try? manager.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            throw MFAError(.vault, "the vault key file \(path) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](data)
        defer { LibCrypto.wipe(&bytes) }
        if bytes.count == 32 {
            try self.init(key: bytes)
        } else {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let decoded = try? Hex.decode(text), decoded.count == 32 else {
                throw MFAError(.vault, "the vault key file \(path) must hold 64 hex characters")
            }
            try self.init(key: decoded)
        }
    }

    /// Seals `secret` for the device `serial`.
    public func seal(_ secret: OTPSecret, serial: String) throws(MFAError) -> [UInt8] {
        let nonce = LibCrypto.randomBytes(12)
        let aad = Self.additionalData(serial)
        var ciphertext = [UInt8](repeating: 0, count: secret.count)
        var tag = [UInt8](repeating: 0, count: 16)
        let ok = secret.withUnsafeBytes { plain in
            mfa_aes256gcm_seal(key, nonce, aad, aad.count, plain.baseAddress!.assumingMemoryBound(to: UInt8.self), plain.count, &ciphertext, &tag)
        }
        guard ok == 1 else { throw MFAError(.vault, "AES-256-GCM sealing failed in OpenSSL") }
        return [Self.version] + keyID + nonce + ciphertext + tag
    }

    /// Opens a sealed secret of device `serial`.
    public func open(_ sealed: [UInt8], serial: String) throws(MFAError) -> OTPSecret {
        guard sealed.count > Self.headerBytes + 16, sealed[0] == Self.version else {
            throw MFAError(.vault, "the sealed secret of \(serial) is malformed")
        }
        guard Array(sealed[1..<9]) == keyID else {
            throw MFAError(.vault, "the secret of \(serial) was sealed under another key (key id \(Hex.encode(sealed[1..<9])), vault key id \(Hex.encode(keyID)))")
        }
        let nonce = Array(sealed[9..<21])
        let ciphertext = Array(sealed[21..<(sealed.count - 16)])
        let tag = Array(sealed.suffix(16))
        let aad = Self.additionalData(serial)
        var plain = [UInt8](repeating: 0, count: ciphertext.count)
        defer { LibCrypto.wipe(&plain) }
        let ok = mfa_aes256gcm_open(key, nonce, aad, aad.count, ciphertext, ciphertext.count, tag, &plain)
        guard ok == 1 else { throw MFAError(.vault, "the sealed secret of \(serial) fails authentication (tampered, or bound to another serial)") }
        do { return try OTPSecret(bytes: plain) } catch { throw MFAError(.vault, "the sealed secret of \(serial) is empty") }
    }

    /// A key derived for another purpose (audit checkpoints), so the KEK itself is used only for sealing.
    public func derivedKey(_ label: String) -> [UInt8] {
        LibCrypto.hmac(.sha256, key: key, message: Array(("mfa-bridge/" + label).utf8))
    }

    static func additionalData(_ serial: String) -> [UInt8] { Array(("mfa-bridge/v1/device/" + serial).utf8) }
}
