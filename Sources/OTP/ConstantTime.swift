import CConstantTime

/// Branch-free building blocks for the window check and the resync search.
///
/// A "mask" is `0` (false) or all ones (true). All arithmetic wraps (`&+`, `&-`, `&*`): checked
/// arithmetic would add an overflow branch on secret data. Results leave secrecy only through
/// ``declassify(_:)``, which is where valgrind's memcheck is told the value is public.
@usableFromInline
enum ConstantTime {
    /// All ones when `x == 0`, else 0.
    @inlinable @inline(__always)
    static func isZeroMask(_ x: UInt32) -> UInt32 {
        0 &- mfa_ct_barrier_u32((~x & (x &- 1)) >> 31)
    }

    /// All ones when `a == b`, else 0.
    @inlinable @inline(__always)
    static func equalMask(_ a: UInt32, _ b: UInt32) -> UInt32 { isZeroMask(a ^ b) }

    /// All ones when `a < b` (both below 2^63), else 0.
    @inlinable @inline(__always)
    static func lessThanMask(_ a: UInt64, _ b: UInt64) -> UInt64 { 0 &- mfa_ct_barrier_u64((a &- b) >> 63) }

    /// `a` where `mask` is all ones, `b` where it is 0.
    @inlinable @inline(__always)
    static func select(_ mask: UInt32, _ a: UInt32, _ b: UInt32) -> UInt32 {
        let m = mfa_ct_barrier_u32(mask)
        return (a & m) | (b & ~m)
    }

    @inlinable @inline(__always)
    static func select(_ mask: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let m = mfa_ct_barrier_u64(mask)
        return (a & m) | (b & ~m)
    }

    /// A public Bool as a mask (for candidate validity, which depends only on public counters).
    @inlinable @inline(__always)
    static func mask(_ flag: Bool) -> UInt32 { 0 &- UInt32(flag ? 1 : 0) }

    /// RFC 4226 dynamic truncation without a secret-indexed load or a secret branch.
    ///
    /// `words[0...4]` are the MAC's first 20 bytes as big-endian 32-bit words, `words[5]` its last
    /// byte. The offset (low nibble of the last byte) picks bytes `offset...offset+3`: all four aligned
    /// word pairs are read and one is kept by masks, then a masking shift (`&>>`, a plain `shr` whose
    /// timing does not depend on the amount) moves the wanted 4 bytes down.
    @inlinable @inline(__always)
    static func truncate(words: UnsafePointer<UInt32>) -> UInt32 {
        let offset = words[5] & 0x0F
        let wordIndex = offset >> 2
        let shift = UInt64(32 &- ((offset & 3) << 3))
        var pair: UInt64 = 0
        for k in 0..<4 {
            let candidate = UInt64(words[k]) << 32 | UInt64(words[k + 1])
            let m = UInt64(equalMask(UInt32(k), wordIndex))
            pair |= candidate & (m | m << 32)
        }
        return UInt32(truncatingIfNeeded: pair &>> shift) & 0x7FFF_FFFF
    }

    /// Marks a value public (a no-op outside valgrind): the single exit of a constant-time result.
    @inlinable @inline(__always)
    static func declassify<T>(_ value: T) -> T {
        var copy = value
        withUnsafeBytes(of: &copy) { mfa_ct_declassify($0.baseAddress, $0.count) }
        return copy
    }
}

/// `x mod 10^digits` without a division instruction (whose timing can depend on the dividend):
/// a multiply by a precomputed reciprocal and one masked correction.
@usableFromInline
struct DigitsModulus: Sendable {
    @usableFromInline let modulus: UInt32
    @usableFromInline let reciprocal: UInt64

    @usableFromInline
    init(digits: Int) {
        var m: UInt32 = 1
        for _ in 0..<digits { m *= 10 }
        modulus = m
        reciprocal = (UInt64(1) << 32) / UInt64(m)
    }

    /// `x mod modulus` for `x < 2^31`. The estimate `x * floor(2^32/m) >> 32` is the true quotient or
    /// one less, so a single masked subtraction finishes the job.
    @inlinable @inline(__always)
    func reduce(_ x: UInt32) -> UInt32 {
        let quotient = UInt32(truncatingIfNeeded: (UInt64(x) &* reciprocal) >> 32)
        var remainder = x &- quotient &* modulus
        let below = mfa_ct_barrier_u32((remainder &- modulus) >> 31)  // 1 when remainder < modulus
        remainder = remainder &- (modulus & (below &- 1))
        return remainder
    }
}
