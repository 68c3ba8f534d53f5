import OTP

/// The checks one key passes on its own, before any comparison with other keys or the inventory:
/// a usable type, algorithm and secret, seed strength, suite versus key length, digits, dates.
public enum SeedChecks {
    /// Seeds below this many bits are rejected.
    public static let minimumBits = 80
    /// Seeds below this many bits are imported with a warning (RFC 4226 asks for 128).
    public static let recommendedBits = 128

    /// The outcome for one key: a rejection reason, or nil and the warnings.
    public static func check(_ entry: SeedEntry, now: Int64) -> (rejection: SeedIssue?, warnings: [SeedIssue]) {
        var warnings = entry.warnings
        if let problem = entry.problem { return (problem, warnings) }
        guard let type = entry.type else { return (SeedIssue("unsupported-algorithm", "the key is neither HOTP nor TOTP"), warnings) }
        guard let secret = entry.secret, secret.count > 0 else { return (SeedIssue("empty-seed", "the seed is empty"), warnings) }
        let allZero = secret.withUnsafeBytes { $0.allSatisfy { $0 == 0 } }
        if allZero { return (SeedIssue("zero-seed", "the seed is all zeros"), warnings) }
        let bits = secret.count * 8
        if bits < minimumBits { return (SeedIssue("short-seed", "the seed has \(bits) bits; at least \(minimumBits) are required"), warnings) }
        if bits < recommendedBits { warnings.append(SeedIssue("weak-seed", "the seed has \(bits) bits; \(recommendedBits) or more are recommended")) }

        var algorithm = entry.algorithm
        if let suite = entry.suite {
            guard let parsed = suiteAlgorithm(suite) else {
                return (SeedIssue("unsupported-suite", "suite '\(suite.prefix(40))' is not HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512"), warnings)
            }
            algorithm = parsed
        }
        // RFC 4226/6238: the key should be as long as the HMAC output. A SHA-2 suite with a shorter
        // key, or any key longer than the hash block (it would be hashed first), is a sign of a
        // suite that does not belong to this seed.
        if algorithm != .sha1, secret.count < algorithm.digestBytes {
            return (SeedIssue("suite-mismatch", "suite \(algorithm.uriName) expects a \(algorithm.digestBytes)-byte seed, got \(secret.count) bytes"), warnings)
        }
        if secret.count > algorithm.blockBytes {
            return (SeedIssue("suite-mismatch", "a \(secret.count)-byte seed is longer than the \(algorithm.uriName) block (\(algorithm.blockBytes) bytes)"), warnings)
        }
        if let encoding = entry.encoding, encoding.uppercased() != "DECIMAL" {
            return (SeedIssue("unsupported-encoding", "response encoding \(encoding.prefix(20)) is not DECIMAL"), warnings)
        }
        guard (6...8).contains(entry.digits) else { return (SeedIssue("bad-digits", "digits must be 6, 7 or 8, got \(entry.digits)"), warnings) }
        switch type {
        case .hotp:
            guard OATHParameters.counters.contains(entry.counter) else {
                return (SeedIssue("bad-counter", "the HOTP counter must be 0 to 2^48, got \(entry.counter)"), warnings)
            }
        case .totp:
            guard OATHParameters.periods.contains(entry.period) else { return (SeedIssue("bad-period", "the TOTP period must be 1 to 3600 seconds, got \(entry.period)"), warnings) }
            guard entry.timeOrigin == 0 else { return (SeedIssue("bad-time-origin", "TOTP T0 other than 0 is not supported (got \(entry.timeOrigin))"), warnings) }
        }
        if let expiry = entry.expiryDate, expiry <= now { return (SeedIssue("expired", "the key expired (ExpiryDate is in the past)"), warnings) }
        if let start = entry.startDate, start > now { warnings.append(SeedIssue("not-yet-valid", "the key's StartDate is in the future")) }
        return (nil, warnings)
    }

    /// The hash of a PSKC `Suite` (`HMAC-SHA1`, `HMAC-SHA256`, `SHA512`, …).
    public static func suiteAlgorithm(_ suite: String) -> HashAlgorithm? {
        var text = suite.uppercased()
        if text.hasPrefix("HMAC-") { text.removeFirst(5) }
        return try? HashAlgorithm(parsing: text)
    }

    /// The effective hash algorithm of an entry (its suite, when one is given).
    public static func algorithm(of entry: SeedEntry) -> HashAlgorithm {
        entry.suite.flatMap(suiteAlgorithm) ?? entry.algorithm
    }
}
