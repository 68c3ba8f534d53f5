import OTP

/// A device that exists only in memory, so a sign-in for a user without a usable device (unknown,
/// locked, pending only) does the HMAC work of one device's window and the failure write of a wrong
/// code: the time it takes says nothing about which kind of rejection it is.
public struct Decoy: Sendable {
    /// No device has it (``Validation/serial(_:)`` refuses an empty serial): a failure counted on it
    /// updates the store's one decoy row instead of a device's (see
    /// ``MFAStore/recordFailure(serials:policy:now:audit:)``).
    public static let serial = ""

    let device: DeviceRecord
    let key: OTPKey

    public init() {
        let secret = LibCrypto.randomBytes(20)
        device = DeviceRecord(
            serial: Self.serial, kind: .virtualTOTP, owner: nil, state: .active, algorithm: .sha1, digits: 6, period: 30, counter: 0,
            sealedSecret: [], createdAt: 0)
        key = OTPKey(secret: try! OTPSecret(bytes: secret), algorithm: .sha1)
    }
}
