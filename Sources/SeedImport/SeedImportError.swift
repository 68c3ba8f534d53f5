import OTP

/// A typed error about a seed file as a whole (the file cannot be read, is hostile, or cannot be
/// decrypted). Problems of single keys are ``SeedIssue``s in the per-key report instead.
///
/// Equality compares codes only; messages name the offending input but never secret material
/// (no seeds, no transport keys, no passwords).
public struct SeedImportError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Not well-formed XML (truncated, garbage, bad encoding).
        public static let malformedXML = Code(rawValue: "malformed-xml")
        /// A DTD, entity declaration or entity reference: refused (billion laughs, external entities).
        public static let forbiddenXML = Code(rawValue: "forbidden-xml")
        /// Well-formed XML that is not a PSKC KeyContainer (wrong root element or namespace, wrong version).
        public static let notPSKC = Code(rawValue: "not-pskc")
        /// A CSV file that cannot be read at all (not text, lines too long).
        public static let malformedCSV = Code(rawValue: "malformed-csv")
        /// Neither PSKC nor CSV (binary data, unknown format name).
        public static let unknownFormat = Code(rawValue: "unknown-format")
        /// The file is larger than the import limit.
        public static let tooLarge = Code(rawValue: "too-large")
        /// The file holds no key at all.
        public static let empty = Code(rawValue: "empty")
        /// The secrets are encrypted and no pre-shared key or password was given (or the wrong kind).
        public static let keyRequired = Code(rawValue: "key-required")
        /// The pre-shared key or password does not open the file (MAC key or every secret fails).
        public static let wrongKey = Code(rawValue: "wrong-key")
        /// An encryption, MAC or key-derivation algorithm that is not supported.
        public static let unsupportedAlgorithm = Code(rawValue: "unsupported-algorithm")
        /// A transport key or password argument that cannot be used (bad hex, wrong length).
        public static let invalidProtection = Code(rawValue: "invalid-protection")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Why one key of a seed file is rejected, or what is worth a warning about it.
public struct SeedIssue: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable identifier (`bad-mac`, `weak-seed`, `duplicate-serial`, …).
    public let code: String
    /// For people; never secret material.
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// A key whose ValueMAC does not verify; the file as a whole counts these to tell a wrong key.
    static let badMAC = "bad-mac"
}
