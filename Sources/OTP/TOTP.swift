/// TOTP (RFC 6238): HOTP over the time step `floor((time − T0) / period)`, with T0 = 0.
///
/// Times are whole Unix seconds (`Int64`); there is no floating point anywhere.
public struct TOTP: Sendable {
    /// The key schedule of the secret.
    public let key: OTPKey
    /// Code length: 6, 7 or 8 digits.
    public let digits: Int
    /// Step length in seconds (30 and 60 are common).
    public let period: Int64
    @usableFromInline let modulus: DigitsModulus

    /// A TOTP generator/verifier over a key schedule.
    public init(key: OTPKey, digits: Int = 6, period: Int64 = 30) throws(OTPError) {
        try OTPCode.checkDigits(digits)
        guard period > 0 else { throw OTPError(.invalidPeriod, "the period must be a positive number of seconds, got \(period)") }
        self.key = key
        self.digits = digits
        self.period = period
        self.modulus = DigitsModulus(digits: digits)
    }

    /// A TOTP generator/verifier for `secret`.
    public init(secret: OTPSecret, algorithm: HashAlgorithm = .sha1, digits: Int = 6, period: Int64 = 30)
        throws(OTPError)
    {
        try self.init(key: OTPKey(secret: secret, algorithm: algorithm), digits: digits, period: period)
    }

    /// The time step of `time` (floor division, so it is also right before 1970).
    public func step(at time: Int64) -> Int64 {
        let q = time / period
        return (time % period != 0 && time < 0) ? q - 1 : q
    }

    /// The code at Unix time `time` (seconds). Throws for times before 1970.
    public func code(at time: Int64) throws(OTPError) -> OTPCode {
        guard time >= 0 else { throw OTPError(.invalidTime, "TOTP is undefined before 1970 (time \(time))") }
        return code(step: UInt64(step(at: time)))
    }

    /// The code of time step `step`.
    public func code(step: UInt64) -> OTPCode {
        OTPCode(unchecked: key.codeValue(counter: step, modulus: modulus), digits: digits)
    }

    /// Checks `code` against the steps `[s − window, s + window]` with `s = step(at: time) + drift`,
    /// in constant time. Steps at or below `watermark` (the last accepted step) never match, nor do
    /// negative steps. The step closest to `s` wins (0, −1, +1, −2, …).
    /// - Returns: the match (offset = matched step − s), or nil.
    public func verify(
        _ code: OTPCode, at time: Int64, window: Int = 1, drift: Int64 = 0, watermark: Int64? = nil
    ) throws(OTPError) -> WindowMatch? {
        try checkCode(code)
        try WindowScan.checkWindow(window, "the window")
        let center = try centerStep(at: time, drift: drift)
        let floor = watermark
        let index = WindowScan.firstMatch(key: key, modulus: modulus, code: code.value, count: 2 * window + 1) { k in
            Self.candidate(center: center, offset: Self.offset(ofPosition: k), watermark: floor)
        }
        return index.map {
            let offset = Self.offset(ofPosition: $0)
            return WindowMatch(counter: UInt64(center + offset), offset: offset)
        }
    }

    /// Searches the steps `[s − window, s + window]` around `s = step(at: time)` (both directions: the
    /// token's clock may run fast or slow) for `code1` at some step `i` and `code2` at `i + 1`. Every code
    /// is computed once, the whole window is scanned, and the pair closest to `s` wins.
    public func resync(
        _ code1: OTPCode, _ code2: OTPCode, at time: Int64, window: Int, watermark: Int64? = nil
    ) throws(OTPError) -> ResyncMatch? {
        try checkCode(code1)
        try checkCode(code2)
        try WindowScan.checkWindow(2 * window, "the resync window")
        guard window >= 1 else { return nil }
        let center = try centerStep(at: time, drift: 0)
        let first = center - Int64(window)
        let floor = watermark
        let index = WindowScan.pairMatch(
            key: key, modulus: modulus, code1: code1.value, code2: code2.value, count: 2 * window,
            candidate: { Self.candidate(center: first, offset: Int64($0), watermark: floor) },
            rank: { UInt64((Int64($0) - Int64(window)).magnitude) })
        return index.map { ResyncMatch(counter: UInt64(first + Int64($0)), offset: Int64($0) - Int64(window)) }
    }

    /// Window position k → step offset: 0, −1, +1, −2, +2, …
    @inlinable @inline(__always)
    static func offset(ofPosition k: Int) -> Int64 {
        let magnitude = Int64((k + 1) / 2)
        return k % 2 == 1 ? -magnitude : magnitude
    }

    @inlinable @inline(__always)
    static func candidate(center: Int64, offset: Int64, watermark: Int64?) -> Candidate {
        let (step, overflow) = center.addingReportingOverflow(offset)
        let aboveWatermark = watermark.map { step > $0 } ?? true
        let valid = !overflow && step >= 0 && aboveWatermark
        return Candidate(counter: valid ? UInt64(step) : 0, valid: valid)
    }

    private func centerStep(at time: Int64, drift: Int64) throws(OTPError) -> Int64 {
        let (center, overflow) = step(at: time).addingReportingOverflow(drift)
        guard !overflow else { throw OTPError(.invalidTime, "time \(time) with drift \(drift) steps is out of range") }
        return center
    }

    private func checkCode(_ code: OTPCode) throws(OTPError) {
        guard code.digits == digits else {
            throw OTPError(.invalidCode, "expected a \(digits)-digit code, got \(code.digits) digits")
        }
    }
}
