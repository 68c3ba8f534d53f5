/// Where a code matched in a verification window.
public struct WindowMatch: Sendable, Hashable {
    /// The HOTP counter or TOTP time step whose code matched.
    public let counter: UInt64
    /// Position relative to the window's reference: HOTP, `counter − expected counter` (0...lookAhead);
    /// TOTP, `step − (current step + drift)` (−window...window).
    public let offset: Int64

    public init(counter: UInt64, offset: Int64) {
        self.counter = counter
        self.offset = offset
    }
}

/// Where two consecutive codes matched in a resync search.
public struct ResyncMatch: Sendable, Hashable {
    /// The counter or step of the first code; the second code is at `counter + 1`.
    public let counter: UInt64
    /// Position of the first code relative to the search's reference: HOTP, `counter − start`;
    /// TOTP, `step − current step` (so the clock drift, measured at the second code, is `offset + 1` steps).
    public let offset: Int64

    public init(counter: UInt64, offset: Int64) {
        self.counter = counter
        self.offset = offset
    }
}

/// One candidate of a scan: its counter and whether it may match at all (depends on public data only:
/// the counters, the replay watermark, range limits).
@usableFromInline
struct Candidate {
    @usableFromInline var counter: UInt64
    @usableFromInline var valid: Bool
    @inlinable init(counter: UInt64, valid: Bool) {
        self.counter = counter
        self.valid = valid
    }
}

/// The constant-time scans. Each computes the code of every candidate, compares it with masks and
/// selects the winner with masks: the same instructions and memory accesses run whether the code
/// matches, where it matches, or not at all. Only the final (found, index) is declassified.
@usableFromInline
enum WindowScan {
    /// Largest window the scans accept (codes computed per call), as a guard against mistakes.
    static let maximumCandidates = 10_000_000

    /// First candidate (in the order given) whose code equals `code`.
    @inlinable
    static func firstMatch(
        key: OTPKey, modulus: DigitsModulus, code: UInt32, count: Int, candidate: (Int) -> Candidate
    ) -> Int? {
        key.withScan { scan in
            var found: UInt32 = 0
            var index: UInt32 = 0
            scan.forEachTruncated(count: count, counter: { let c = candidate($0); return c.valid ? c.counter : 0 }) {
                i, truncated in
                let value = modulus.reduce(truncated)
                let hit = ConstantTime.equalMask(value, code) & ConstantTime.mask(candidate(i).valid) & ~found
                index = ConstantTime.select(hit, UInt32(truncatingIfNeeded: i), index)
                found |= hit
            }
            let result = ConstantTime.declassify((found, index))
            return result.0 != 0 ? Int(result.1) : nil
        }
    }

    /// Position `p` (0..<count) where `code(p) == code1` and `code(p+1) == code2`, preferring the
    /// lowest `rank(p)`. Computes `count + 1` codes, each once, and never stops early.
    @inlinable
    static func pairMatch(
        key: OTPKey, modulus: DigitsModulus, code1: UInt32, code2: UInt32, count: Int,
        candidate: (Int) -> Candidate, rank: (Int) -> UInt64
    ) -> Int? {
        key.withScan { scan in
            var found: UInt32 = 0
            var bestIndex: UInt32 = 0
            var bestRank: UInt64 = UInt64.max >> 2
            var previousIsCode1: UInt32 = 0
            scan.forEachTruncated(count: count + 1, counter: { let c = candidate($0); return c.valid ? c.counter : 0 }) {
                p, truncated in
                let value = modulus.reduce(truncated)
                let valid = ConstantTime.mask(candidate(p).valid)
                // The pair (p-1, p) matches when p-1 showed code1 and p shows code2.
                let pairHit = previousIsCode1 & ConstantTime.equalMask(value, code2) & valid
                let pairRank = rank(p == 0 ? 0 : p - 1)
                let better = pairHit & UInt32(truncatingIfNeeded: ConstantTime.lessThanMask(pairRank, bestRank))
                bestRank = ConstantTime.select(UInt64(better) | UInt64(better) << 32, pairRank, bestRank)
                bestIndex = ConstantTime.select(better, UInt32(truncatingIfNeeded: p &- 1), bestIndex)
                found |= pairHit
                previousIsCode1 = ConstantTime.equalMask(value, code1) & valid
            }
            let result = ConstantTime.declassify((found, bestIndex))
            return result.0 != 0 ? Int(result.1) : nil
        }
    }

    static func checkWindow(_ size: Int, _ what: String) throws(OTPError) {
        guard size >= 0 else { throw OTPError(.invalidWindow, "\(what) must not be negative, got \(size)") }
        guard size < maximumCandidates else {
            throw OTPError(.invalidWindow, "\(what) of \(size) is too large (limit \(maximumCandidates - 1))")
        }
    }
}
