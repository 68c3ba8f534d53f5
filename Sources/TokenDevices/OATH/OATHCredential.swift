import OTP

/// A credential as the applet lists it.
public struct OATHCredential: Sendable, Hashable, CustomStringConvertible {
    /// The stored id, `[period/][issuer:]account`.
    public let id: String
    public let type: OATHType
    public let algorithm: HashAlgorithm

    public init(id: String, type: OATHType, algorithm: HashAlgorithm) {
        self.id = id
        self.type = type
        self.algorithm = algorithm
    }

    /// The id split into period, issuer and account.
    public var parsedID: OATHCredentialID { OATHCredentialID(parsing: id, type: type) }
    public var period: Int64 { parsedID.period }
    public var description: String { id }
}

/// One entry of CALCULATE ALL, completed: a code, or why there is none.
public struct OATHCalculation: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// A code (TOTP, computed for the requested time).
        case code(OTPCode)
        /// HOTP: calculating advances the card's counter, so it is only done on request.
        case hotp(digits: Int)
        /// The credential needs a touch on the token; calculate it individually.
        case touchRequired(digits: Int)
    }

    public let credential: OATHCredential
    public let outcome: Outcome
    /// For TOTP codes: the Unix time range the code is valid for.
    public let validFrom: Int64?
    public let validUntil: Int64?
}

/// A firmware version as the applet reports it (tag 79).
public struct OATHVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: UInt8
    public let minor: UInt8
    public let patch: UInt8

    public init(_ major: UInt8, _ minor: UInt8, _ patch: UInt8) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
    public var description: String { "\(major).\(minor).\(patch)" }
}
