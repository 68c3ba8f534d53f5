import OTP

/// Reads the CSV seed format: one token per line,
/// `serial, seed, type, digits, counter-or-period, algorithm` (algorithm optional, SHA-1 by default).
///
/// The seed is hex (only hex digits, even length) or Base32; `hex:` and `base32:` prefixes force one.
/// An optional header line (first field `serial`), blank lines and `#` comments are skipped. Fields may
/// be double-quoted. Each line becomes one ``SeedEntry``; a line that cannot be read becomes an entry
/// with a ``SeedEntry/problem``.
public enum CSVSeedReader {
    /// The longest line accepted.
    static let maximumLineBytes = 4096

    public static func read(_ bytes: UnsafeRawBufferPointer, progress: ((Int) -> Void)? = nil) throws(SeedImportError) -> [SeedEntry] {
        guard let text = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw SeedImportError(.malformedCSV, "the CSV file is not UTF-8 text")
        }
        var entries: [SeedEntry] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            guard rawLine.utf8.count <= maximumLineBytes else {
                throw SeedImportError(.malformedCSV, "line \(lineNumber) is longer than \(maximumLineBytes) bytes")
            }
            let line = String(rawLine).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.contains(where: { $0.asciiValue.map { $0 < 0x20 && $0 != 0x09 } ?? false }) {
                throw SeedImportError(.malformedCSV, "line \(lineNumber) contains control characters: not a CSV seed file")
            }
            let fields = split(line)
            if entries.isEmpty, fields.first?.lowercased() == "serial" { continue }
            entries.append(entry(fields, line: lineNumber))
            progress?(entries.count)
        }
        guard !entries.isEmpty else { throw SeedImportError(.empty, "the CSV file holds no token line") }
        return entries
    }

    static func entry(_ fields: [String], line: Int) -> SeedEntry {
        var entry = SeedEntry(position: line)
        entry.serial = fields.first.flatMap { $0.isEmpty ? nil : $0 }
        guard fields.count == 5 || fields.count == 6 else {
            entry.problem = SeedIssue("bad-line", "line \(line) has \(fields.count) fields; expected serial, seed, type, digits, counter-or-period[, algorithm]")
            return entry
        }
        entry.algorithmName = fields[2].lowercased()
        switch entry.algorithmName {
        case "hotp": entry.type = .hotp
        case "totp": entry.type = .totp
        default:
            entry.problem = SeedIssue("unsupported-algorithm", "type '\(fields[2].prefix(20))' on line \(line) is not hotp or totp")
            return entry
        }
        guard let digits = Int(fields[3]) else {
            entry.problem = SeedIssue("bad-value", "digits '\(fields[3].prefix(20))' on line \(line) is not a number")
            return entry
        }
        entry.digits = digits
        guard let number = Int64(fields[4]) else {
            entry.problem = SeedIssue("bad-value", "counter/period '\(fields[4].prefix(20))' on line \(line) is not a number")
            return entry
        }
        if entry.type == .hotp { entry.counter = number } else { entry.period = number }
        if fields.count == 6, !fields[5].isEmpty {
            do {
                entry.algorithm = try HashAlgorithm(parsing: fields[5])
                entry.suite = fields[5]
            } catch {
                entry.problem = SeedIssue("unsupported-suite", "algorithm '\(fields[5].prefix(20))' on line \(line) is not sha1, sha256 or sha512")
                return entry
            }
        }
        do {
            entry.secret = try seed(fields[1])
        } catch {
            // The message names the encoding problem, never the seed.
            entry.problem = SeedIssue("bad-seed", "the seed on line \(line) is neither hex nor Base32 (\(error.code))")
        }
        return entry
    }

    static func seed(_ field: String) throws(OTPError) -> OTPSecret? {
        let lower = field.lowercased()
        if lower.hasPrefix("hex:") { return try OTPSecret(hex: String(field.dropFirst(4))) }
        if lower.hasPrefix("base32:") { return try OTPSecret(base32: String(field.dropFirst(7))) }
        if field.isEmpty { return nil }
        let isHex = field.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) } && field.utf8.count % 2 == 0
        return isHex ? try OTPSecret(hex: field) : try OTPSecret(base32: field)
    }

    /// Splits on commas; double-quoted fields may hold commas (`""` is a quote). Fields are trimmed.
    static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var justClosed = false
        for c in line {
            if quoted {
                if c == "\"" {
                    quoted = false
                    justClosed = true
                    continue
                }
                current.append(c)
            } else if c == "\"" {
                if justClosed { current.append("\"") }
                quoted = true
            } else if c == "," {
                fields.append(current.trimmingWhitespace)
                current = ""
            } else {
                current.append(c)
            }
            justClosed = false
        }
        fields.append(current.trimmingWhitespace)
        return fields
    }
}
