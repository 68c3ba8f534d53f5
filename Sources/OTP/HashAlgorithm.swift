import COpenSSL

/// The HMAC hash functions of RFC 4226 / RFC 6238.
public enum HashAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sha1, sha256, sha512

    /// Parses `sha1`, `SHA-256`, `SHA512`, … (case-insensitive, hyphen optional).
    public init(parsing text: String) throws(OTPError) {
        let normalized = String(text.lowercased().filter { $0 != "-" })
        guard let value = HashAlgorithm(rawValue: normalized) else {
            throw OTPError(.invalidAlgorithm, "unknown hash algorithm '\(text)': expected sha1, sha256 or sha512")
        }
        self = value
    }

    /// Digest size in bytes (20, 32, 64).
    public var digestBytes: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }

    /// Hash block size in bytes (64, 64, 128): keys longer than this are hashed first.
    public var blockBytes: Int { self == .sha512 ? 128 : 64 }

    /// The name used in `otpauth://` URIs (`SHA1`, `SHA256`, `SHA512`).
    public var uriName: String { rawValue.uppercased() }

    public var description: String { rawValue }

    var cIdentifier: Int32 {
        switch self {
        case .sha1: Int32(MFA_HASH_SHA1)
        case .sha256: Int32(MFA_HASH_SHA256)
        case .sha512: Int32(MFA_HASH_SHA512)
        }
    }
}
