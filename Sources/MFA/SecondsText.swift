import Foundation

/// Lengths of time as admins write them (`90d`, `24h`, `30m`, `45s`, or plain seconds) and as
/// messages and audit details say them back, and Unix times as ISO 8601 in UTC.
public enum SecondsText {
    static let units: [(suffix: Character, seconds: Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// Seconds in `text`: a whole number with an optional unit `d`, `h`, `m` or `s`; nil when it is
    /// not one (or overflows).
    public static func parse(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let unit = units.first { $0.suffix == last }
        let digits = unit == nil ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit?.seconds ?? 1)
        return overflow ? nil : product
    }

    /// `seconds` in the largest unit that divides it evenly: `86400` → `1d`, `5400` → `90m`.
    public static func describe(_ seconds: Int64) -> String {
        guard seconds > 0 else { return "\(seconds)s" }
        let unit = units.first { seconds % $0.seconds == 0 } ?? ("s", 1)
        return "\(seconds / unit.seconds)\(unit.suffix)"
    }

    /// A Unix time as ISO 8601 in UTC (`2026-12-03T18:30:00Z`).
    public static func iso(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
