/// Why a `--reader` choice could not be resolved.
public struct ReaderSelectionError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let noReaders = Code(rawValue: "no-readers")
        public static let notFound = Code(rawValue: "reader-not-found")
        public static let ambiguous = Code(rawValue: "reader-ambiguous")
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// Resolves a reader the way admins name them: an exact name, a case-insensitive substring that
/// matches exactly one reader, or an index into the list. No choice is fine when there is exactly
/// one reader.
public enum ReaderSelection {
    public static func resolve(_ choice: String?, among readers: [String]) throws(ReaderSelectionError) -> String {
        guard !readers.isEmpty else {
            throw ReaderSelectionError(code: .noReaders, message: "no smart card readers found (is the reader plugged in and pcscd running?)")
        }
        let listing = readers.enumerated().map { "  [\($0.offset)] \($0.element)" }.joined(separator: "\n")
        guard let choice, !choice.isEmpty else {
            if readers.count == 1 { return readers[0] }
            throw ReaderSelectionError(code: .ambiguous, message: "several readers; choose one with --reader NAME|SUBSTRING|INDEX:\n\(listing)")
        }
        if readers.contains(choice) { return choice }
        if let index = Int(choice), readers.indices.contains(index) { return readers[index] }
        let matches = readers.filter { $0.lowercased().contains(choice.lowercased()) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw ReaderSelectionError(code: .notFound, message: "no reader matches '\(choice)'; readers:\n\(listing)")
        }
        throw ReaderSelectionError(
            code: .ambiguous, message: "'\(choice)' matches \(matches.count) readers; be more specific:\n\(listing)")
    }
}
