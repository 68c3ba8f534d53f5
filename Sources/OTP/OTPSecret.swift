import COpenSSL

/// Secret key bytes of an OTP credential.
///
/// - Prints, dumps and reflects as `OTPSecret(<redacted>, N bytes)`, never the bytes.
/// - Is deliberately not `Equatable`: use ``constantTimeEquals(_:)``, which does not stop at the
///   first differing byte.
/// - Owns its storage and wipes it (`OPENSSL_cleanse`) when the last reference goes away.
///
/// Immutable after creation, so it is safe to share across threads.
public final class OTPSecret: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into wiped-on-release storage. Throws ``OTPError/Code/emptySecret`` for no bytes.
    public convenience init(bytes: some Collection<UInt8>) throws(OTPError) {
        guard !bytes.isEmpty else { throw OTPError(.emptySecret, "the secret is empty") }
        self.init(count: bytes.count) { buffer in
            _ = buffer.initialize(from: bytes)
        }
    }

    /// Decodes a Base32 secret (RFC 4648; case, spaces, hyphens and missing padding tolerated)
    /// straight into wiped-on-release storage.
    public convenience init(base32 text: String) throws(OTPError) {
        let count = try Base32.decodedCount(text)
        guard count > 0 else { throw OTPError(.emptySecret, "the secret is empty") }
        var failure: OTPError?
        self.init(count: count) { buffer in
            do throws(OTPError) { try Base32.decode(text, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Decodes a hexadecimal secret (either case, optional spaces) into wiped-on-release storage.
    public convenience init(hex text: String) throws(OTPError) {
        let count = try Hex.decodedCount(text)
        guard count > 0 else { throw OTPError(.emptySecret, "the secret is empty") }
        var failure: OTPError?
        self.init(count: count) { buffer in
            do throws(OTPError) { try Hex.decode(text, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`).
    public static func random(byteCount count: Int) -> OTPSecret {
        precondition(count > 0, "a secret needs at least one byte")
        return OTPSecret(count: count) { buffer in
            let ok = RAND_bytes(buffer.baseAddress, Int32(buffer.count))
            precondition(ok == 1, "OpenSSL RAND_bytes failed")
        }
    }

    private init(count: Int, fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        fill(storage.bindMemory(to: UInt8.self))
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    /// Number of secret bytes.
    public var count: Int { storage.count }

    /// Gives `body` read access to the bytes. Do not copy them out of the closure.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Compares two secrets without an early exit (`CRYPTO_memcmp`); only the lengths may leak.
    public func constantTimeEquals(_ other: OTPSecret) -> Bool {
        guard count == other.count else { return false }
        return CRYPTO_memcmp(storage.baseAddress, other.storage.baseAddress, count) == 0
    }

    /// The secret as RFC 4648 Base32 without padding, for enrollment output that is shown once.
    public func base32EncodedString(padding: Bool = false) -> String {
        withUnsafeBytes { Base32.encode($0, padding: padding) }
    }

    /// The secret as lowercase hexadecimal.
    public func hexEncodedString() -> String {
        withUnsafeBytes { Hex.encode($0) }
    }

    public var description: String { "OTPSecret(<redacted>, \(count) bytes)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .class) }
}
