/// The ranges of OATH parameters that enrollment and seed imports accept: wide enough for every real
/// token, narrow enough that no arithmetic on them (a counter plus a look-ahead, a drift times a
/// period) can overflow and trap.
public enum OATHParameters {
    /// TOTP time steps in seconds (tokens use 30 or 60).
    public static let periods: ClosedRange<Int64> = 1...3_600
    /// HOTP counters: 2^48 presses, more than a token pressed every second would reach in eight
    /// million years.
    public static let counters: ClosedRange<Int64> = 0...(1 << 48)
}
