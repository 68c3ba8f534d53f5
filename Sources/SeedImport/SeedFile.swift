import OTP

/// The seed-file formats that can be imported.
public enum SeedFileFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// Portable Symmetric Key Container, RFC 6030 (XML; plaintext, pre-shared-key or password protected).
    case pskc
    /// One token per line: `serial, seed, type, digits, counter-or-period, algorithm` (see Docs/import.md).
    case csv
}

/// How the secrets of a seed file are protected in transport, as the importing admin knows it.
public enum TransportProtection: Sendable {
    /// Plaintext secrets (or a file whose protection is unknown: encrypted files then fail with
    /// ``SeedImportError/Code/keyRequired``).
    case none
    /// A pre-shared AES key (16, 24 or 32 bytes).
    case preSharedKey([UInt8])
    /// A passphrase for the file's PBKDF2 `DerivedKey`.
    case password(String)

    /// Parses a pre-shared key given as hex (32, 48 or 64 hex digits).
    public static func preSharedKey(hex: String) throws(SeedImportError) -> TransportProtection {
        guard let bytes = try? Hex.decode(hex), [16, 24, 32].contains(bytes.count) else {
            throw SeedImportError(.invalidProtection, "a pre-shared key is 32, 48 or 64 hex digits (AES-128, -192 or -256)")
        }
        return .preSharedKey(bytes)
    }
}

/// One key (one token) read from a seed file, before any inventory check.
///
/// `secret` is the plaintext seed in wiped-on-release storage, or nil when the key could not be
/// read (then `problem` says why: bad MAC, undecryptable, unsupported algorithm, …).
public struct SeedEntry: Sendable {
    /// 1-based position in the file (KeyPackage number, or CSV line number).
    public var position: Int
    public var serial: String?
    public var manufacturer: String?
    public var model: String?
    /// The PSKC Key `Id`.
    public var keyID: String?
    public var type: OTPType?
    /// The algorithm URI or CSV type as written (for messages).
    public var algorithmName: String?
    public var algorithm: HashAlgorithm = .sha1
    /// The PSKC `Suite` as written (nil: SHA-1 by default).
    public var suite: String?
    public var digits: Int = 6
    /// The `ResponseFormat` `Encoding` (nil or DECIMAL are usable).
    public var encoding: String?
    /// HOTP: the next counter.
    public var counter: Int64 = 0
    /// TOTP: the step in seconds.
    public var period: Int64 = 30
    /// TOTP: T0, the Unix time the steps count from (only 0 is supported).
    public var timeOrigin: Int64 = 0
    /// TOTP: the known clock drift of the token in steps.
    public var driftSteps: Int64 = 0
    /// Policy dates as written (ISO 8601), and parsed to Unix time.
    public var startDate: Int64?
    public var expiryDate: Int64?
    public var secret: OTPSecret?
    /// Why this key cannot be used at all (nil when it could be read).
    public var problem: SeedIssue?
    /// Things worth a warning found while reading (no MAC, …).
    public var warnings: [SeedIssue] = []

    public init(position: Int) { self.position = position }
}

/// A seed file as read: its SHA-256 fingerprint (for the audit log), format, and keys in file order.
public struct SeedFile: Sendable {
    public let format: SeedFileFormat
    /// SHA-256 of the file's bytes.
    public let fingerprint: [UInt8]
    /// `plaintext`, `pre-shared-key`, `password`.
    public let protection: String
    public let entries: [SeedEntry]

    public init(format: SeedFileFormat, fingerprint: [UInt8], protection: String, entries: [SeedEntry]) {
        self.format = format
        self.fingerprint = fingerprint
        self.protection = protection
        self.entries = entries
    }
}
