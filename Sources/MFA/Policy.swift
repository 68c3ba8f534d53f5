/// The rules of the service. Defaults follow what admins expect from AWS IAM MFA, tightened.
public struct Policy: Sendable, Hashable {
    /// Sign-in: TOTP steps either side of the device's drift-corrected step.
    public var totpWindow = 1
    /// Sign-in: HOTP counters accepted ahead of the expected one.
    public var hotpLookAhead = 10
    /// Enable/resync: TOTP steps searched either side of now (2 880 = ±24 h at 30 s).
    public var totpSyncWindow = 2_880
    /// Enable/resync: HOTP counters searched ahead.
    public var hotpSyncWindow = 10_000
    /// Consecutive failures that lock a device.
    public var lockoutThreshold = 10
    /// First lock duration in seconds; it doubles with each further lockout, up to `maximumLockSeconds`.
    public var baseLockSeconds: Int64 = 60
    public var maximumLockSeconds: Int64 = 86_400
    /// Seconds without a failure after which a device's failure count starts again from zero
    /// (`serve --lockout-decay`); 0: failures count until a success, an unlock or a resync.
    public var lockoutDecaySeconds: Int64 = 0
    /// Devices per user.
    public var maximumDevicesPerUser = 8
    /// Drift estimates kept per device.
    public var driftHistoryLength = 16
    /// Diagnoses of one device allowed per `diagnosePeriodSeconds`, for every caller (a technician
    /// with the user on the phone needs a handful; an attacker guessing codes needs hundreds).
    public var diagnoseLimit = 10
    public var diagnosePeriodSeconds: Int64 = 900
    /// Unlocks of one device a technician (not an admin) may do per `technicianUnlockPeriodSeconds`:
    /// each unlock clears the failure count, so without a bound it would undo the lockout.
    public var technicianUnlockLimit = 3
    public var technicianUnlockPeriodSeconds: Int64 = 86_400
    /// Seconds a pending Idempotency-Key claim holds before a retry of the same request may take it
    /// over (the first attempt's process died or its store call failed).
    public var idempotencyLeaseSeconds: Int64 = 10
    /// Seconds a pending device may wait to be enabled; then it expires and is deleted (audited
    /// `device.expire`), so abandoned enrollments never fill a user's device limit.
    public var pendingLifetimeSeconds: Int64 = 86_400
    /// Bytes of a generated virtual seed (160 bits, RFC 4226's recommendation).
    public var virtualSeedBytes = 20

    public init() {}

    /// The lock duration after the `lockouts`-th lockout (1-based).
    public func lockDuration(lockouts: Int) -> Int64 {
        let exponent = min(max(lockouts - 1, 0), 20)
        return min(baseLockSeconds << Int64(exponent), maximumLockSeconds)
    }
}
