import OTP

/// A malformed APDU, response or TLV structure: from a card, a reader, or a host.
///
/// Typed like the other errors of the project: an extensible ``Code`` and a message that names what
/// is wrong (offsets, tags, lengths), never key material.
public struct SmartcardError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A command APDU that cannot be encoded or parsed.
        public static let malformedCommand = Code(rawValue: "malformed-command")
        /// A response shorter than its two status bytes, or otherwise unusable.
        public static let malformedResponse = Code(rawValue: "malformed-response")
        /// A BER-TLV structure with a bad length, a truncated value, or an unsupported tag form.
        public static let malformedTLV = Code(rawValue: "malformed-tlv")
        /// A required tag is missing from a response.
        public static let missingTag = Code(rawValue: "missing-tag")
        /// Response chaining (61xx) that does not end.
        public static let chainingOverflow = Code(rawValue: "chaining-overflow")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
