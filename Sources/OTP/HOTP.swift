/// HOTP (RFC 4226): HMAC-based one-time codes from a moving counter.
public struct HOTP: Sendable {
    /// The key schedule of the secret.
    public let key: OTPKey
    /// Code length: 6, 7 or 8 digits.
    public let digits: Int
    @usableFromInline let modulus: DigitsModulus

    /// An HOTP generator/verifier over a key schedule.
    public init(key: OTPKey, digits: Int = 6) throws(OTPError) {
        try OTPCode.checkDigits(digits)
        self.key = key
        self.digits = digits
        self.modulus = DigitsModulus(digits: digits)
    }

    /// An HOTP generator/verifier for `secret` (RFC 4226 uses SHA-1; SHA-256/512 as OATH cards allow).
    public init(secret: OTPSecret, algorithm: HashAlgorithm = .sha1, digits: Int = 6) throws(OTPError) {
        try self.init(key: OTPKey(secret: secret, algorithm: algorithm), digits: digits)
    }

    /// The code for `counter`.
    public func code(counter: UInt64) -> OTPCode {
        OTPCode(unchecked: key.codeValue(counter: counter, modulus: modulus), digits: digits)
    }

    /// The codes of `count` consecutive counters from `counter` (wrapping past `UInt64.max` as the
    /// counter field does), computed in one scan: two compressions per code, one allocation per call.
    public func codes(from counter: UInt64, count: Int) -> [OTPCode] {
        precondition(count >= 0, "count must not be negative")
        let digits = self.digits
        let modulus = self.modulus
        return key.withScan { scan in
            [OTPCode](unsafeUninitializedCapacity: count) { buffer, initialized in
                scan.forEachTruncated(count: count, counter: { counter &+ UInt64($0) }) { i, truncated in
                    (buffer.baseAddress! + i).initialize(to: OTPCode(unchecked: modulus.reduce(truncated), digits: digits))
                }
                initialized = count
            }
        }
    }

    /// Checks `code` against the look-ahead window `[counter, counter + lookAhead]`, in constant time.
    ///
    /// Candidates at or below `watermark` (the last accepted counter) never match, nor do counters
    /// past `UInt64.max` (the window never wraps around to 0). The lowest matching counter wins.
    /// - Returns: the match (offset = matched counter − `counter`), or nil.
    public func verify(_ code: OTPCode, counter: UInt64, lookAhead: Int, watermark: UInt64? = nil) throws(OTPError)
        -> WindowMatch?
    {
        try checkCode(code)
        try WindowScan.checkWindow(lookAhead, "the look-ahead window")
        let floor = watermark
        let index = WindowScan.firstMatch(key: key, modulus: modulus, code: code.value, count: lookAhead + 1) { i in
            Self.candidate(start: counter, position: i, watermark: floor)
        }
        return index.map { WindowMatch(counter: counter &+ UInt64($0), offset: Int64($0)) }
    }

    /// Searches `[counter, counter + window]` for two consecutive codes: `code1` at some `i` and `code2`
    /// at `i + 1`. Every code is computed once and the whole window is scanned; the lowest `i` wins.
    /// After a match the next expected counter is `match.counter + 2`.
    public func resync(
        _ code1: OTPCode, _ code2: OTPCode, from counter: UInt64, window: Int, watermark: UInt64? = nil
    ) throws(OTPError) -> ResyncMatch? {
        try checkCode(code1)
        try checkCode(code2)
        try WindowScan.checkWindow(window, "the resync window")
        guard window >= 1 else { return nil }
        let floor = watermark
        let index = WindowScan.pairMatch(
            key: key, modulus: modulus, code1: code1.value, code2: code2.value, count: window,
            candidate: { Self.candidate(start: counter, position: $0, watermark: floor) },
            rank: { UInt64($0) })
        return index.map { ResyncMatch(counter: counter &+ UInt64($0), offset: Int64($0)) }
    }

    @inlinable @inline(__always)
    static func candidate(start: UInt64, position: Int, watermark: UInt64?) -> Candidate {
        let (value, overflow) = start.addingReportingOverflow(UInt64(position))
        let aboveWatermark = watermark.map { value > $0 } ?? true
        return Candidate(counter: value, valid: !overflow && aboveWatermark)
    }

    private func checkCode(_ code: OTPCode) throws(OTPError) {
        guard code.digits == digits else {
            throw OTPError(.invalidCode, "expected a \(digits)-digit code, got \(code.digits) digits")
        }
    }
}
