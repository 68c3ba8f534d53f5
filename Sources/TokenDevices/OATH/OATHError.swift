import OTP

/// An error from the YKOATH applet, from its status words or its answers.
public struct OATHError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The card does not have the OATH applet (SELECT answered 6A82).
        public static let appletNotFound = Code(rawValue: "applet-not-found")
        /// 6982: the applet is password-protected and not unlocked, or a touch timed out.
        public static let authenticationRequired = Code(rawValue: "authentication-required")
        /// 6982 on a credential that requires touch: nobody touched the token in time.
        public static let touchTimeout = Code(rawValue: "touch-timeout")
        /// 6A80 on VALIDATE, or the card's mutual-authentication answer did not match: wrong password.
        public static let wrongPassword = Code(rawValue: "wrong-password")
        /// A password was given but the applet has none.
        public static let noPasswordSet = Code(rawValue: "no-password-set")
        /// 6A80: the card rejected the command's syntax.
        public static let wrongSyntax = Code(rawValue: "wrong-syntax")
        /// 6984 (6A82 on Nitrokey 3): no credential with that name.
        public static let noSuchCredential = Code(rawValue: "no-such-credential")
        /// 6A84 (6F00 on old keys): no space for another credential.
        public static let noSpace = Code(rawValue: "no-space")
        /// 6581: the credential is corrupted on the card.
        public static let corruptedCredential = Code(rawValue: "corrupted-credential")
        /// The card's firmware does not support the operation (e.g. RENAME before 5.3.1).
        public static let unsupported = Code(rawValue: "unsupported")
        /// A parameter the applet cannot store (name too long, digits, key length).
        public static let invalidParameter = Code(rawValue: "invalid-parameter")
        /// Any other status word, or an answer that breaks the protocol.
        public static let unexpectedResponse = Code(rawValue: "unexpected-response")
    }

    public let code: Code
    public let message: String
    /// The status word that caused it, when there was one.
    public let status: StatusWord?

    public init(_ code: Code, _ message: String, status: StatusWord? = nil) {
        self.code = code
        self.message = message
        self.status = status
    }
}
