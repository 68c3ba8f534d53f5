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
    /// One format style for every call (a value, safe to share): an access log line or a page of 1000
    /// audit entries does not build a formatter per time.
    public static func iso(_ seconds: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(isoStyle)
    }

    private static let isoStyle = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)

    /// A Unix time from ISO 8601 as admins type it: `2026-12-03T18:30:00Z`, with an offset
    /// (`+01:00`) or fractional seconds, or a date alone (`2026-12-03`, midnight UTC); nil otherwise.
    public static func parseTime(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let shapes: [ISO8601DateFormatter.Options] = [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds], [.withFullDate],
        ]
        for shape in shapes {
            formatter.formatOptions = shape
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        }
        return nil
    }

    /// A start time as `--since` takes it: ISO 8601 (``parseTime(_:)``), a Unix time in seconds, or a
    /// length of time back from `now` (`24h`, `7d`).
    public static func parseSince(_ text: String, now: Int64) -> Int64? {
        if let time = parseTime(text) { return time }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return Int64(text) }
        return parse(text).map { now - $0 }
    }
}
