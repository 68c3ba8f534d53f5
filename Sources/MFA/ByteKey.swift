/// An identity — a user name, a serial, an API key id, an idempotency key — compared and hashed as
/// its UTF-8 bytes.
///
/// Swift's `String` equality and hashing follow Unicode canonical equivalence: `"josé"` (U+00E9)
/// and `"jose\u{301}"` are equal strings, while SQLite and PostgreSQL compare bytes and hold them as
/// two rows. A map keyed by `String` would merge two users that the database keeps apart, so one
/// user's device could answer for the other. Every in-memory map, set or comparison of identities
/// uses this type (or ``Swift/String/hasSameBytes(as:)``) instead.
public struct ByteKey: Hashable, Sendable, CustomStringConvertible {
    public let string: String

    public init(_ string: String) { self.string = string }

    public var description: String { string }

    public static func == (lhs: ByteKey, rhs: ByteKey) -> Bool { lhs.string.hasSameBytes(as: rhs.string) }

    public func hash(into hasher: inout Hasher) {
        var copy = string  // native strings are contiguous: withUTF8 copies nothing
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Byte equality of the UTF-8 forms, never canonical equivalence (see ``ByteKey``).
    public func hasSameBytes(as other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}

extension Optional where Wrapped == String {
    /// Byte equality of two optional identities: nil only equals nil.
    public func hasSameBytes(as other: String?) -> Bool {
        switch (self, other) {
        case (nil, nil): return true
        case (let a?, let b?): return a.hasSameBytes(as: b)
        default: return false
        }
    }
}
