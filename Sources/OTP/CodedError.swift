/// The shape every typed error of the project shares (in the style of swift-system's `Errno`): a
/// stable, extensible code for programs and a message for people that never holds secret material.
/// Equality and hashing look at the code only, so `catch` and `#expect(throws:)` match on it; the
/// description is the message.
public protocol CodedError: Error, Sendable, Hashable, CustomStringConvertible {
    associatedtype Code: Hashable
    /// The machine-readable error code.
    var code: Code { get }
    /// A human-readable explanation naming what is wrong.
    var message: String { get }
}

extension CodedError {
    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// A code of a ``CodedError``: a string that scripts can match (`--json` output, HTTP bodies).
public protocol ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible where RawValue == String {}

extension ErrorCode {
    public var description: String { rawValue }
}
