import OTP

/// A typed error of the MFA service and its stores.
///
/// Verification rejections are deliberately *not* errors with reasons: ``MFAService/verify(user:code:)``
/// answers `.rejected` for every kind of failure, and the reason goes to the audit log only.
public struct MFAError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let noSuchUser = Code(rawValue: "no-such-user")
        public static let noSuchDevice = Code(rawValue: "no-such-device")
        /// No API key with this id.
        public static let noSuchKey = Code(rawValue: "no-such-key")
        /// The codes given to enable or resync do not match (uniform: no hint which one).
        public static let invalidCode = Code(rawValue: "invalid-code")
        /// Two codes were valid but not consecutive.
        public static let notConsecutive = Code(rawValue: "not-consecutive")
        /// A user already has the maximum number of devices.
        public static let limitExceeded = Code(rawValue: "limit-exceeded")
        /// A device with this serial exists.
        public static let alreadyExists = Code(rawValue: "already-exists")
        /// The operation does not fit the device's state (e.g. deleting an active virtual device).
        public static let conflict = Code(rawValue: "conflict")
        /// The device is locked after repeated failures.
        public static let locked = Code(rawValue: "locked")
        /// The store could not be reached or failed; `message` carries the cause.
        public static let storeUnavailable = Code(rawValue: "store-unavailable")
        /// Too many calls of a rate-limited operation (diagnose, a technician's unlock) for one device.
        public static let rateLimited = Code(rawValue: "rate-limited")
        /// Bad input: names, algorithms, digits, seeds.
        public static let invalidInput = Code(rawValue: "invalid-input")
        /// The vault cannot open a secret (wrong key file, tampered data).
        public static let vault = Code(rawValue: "vault")
        /// The audit chain does not verify.
        public static let auditChainBroken = Code(rawValue: "audit-chain-broken")
        /// A seed file that cannot be imported as a whole (the message says why; the per-key
        /// problems of a readable file are in the import report instead). Codes of this family
        /// start with `seed-file.`: `seed-file.malformed-xml`, `seed-file.wrong-key`, ….
        public static func seedFile(_ detail: String) -> Code { Code(rawValue: "seed-file." + detail) }

        /// A code of the ``seedFile(_:)`` family.
        public var isSeedFile: Bool { rawValue.hasPrefix("seed-file.") }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension MFAError {
    /// A store opened with a vault key other than the one it was sealed with: every secret would fail
    /// to open and new ones would be sealed under a key nobody else has. Names both key ids (a key id
    /// is a hash prefix, not the key) so the admin can find the right file; said locally, never in an
    /// HTTP answer.
    public static func vaultKeyMismatch(recorded: [UInt8], given: [UInt8]) -> MFAError {
        MFAError(.vault, "the store is sealed with vault key \(Hex.encode(recorded)), but the key given is \(Hex.encode(given)); "
            + "open it with the key it was created with (--key-file, or MFA_VAULT_KEY). Nothing was changed.")
    }
}
