import OTP
import Synchronization

/// The HMAC keys of recently verified devices, as opened from their sealed secrets: a device's next
/// sign-in skips the vault's AES-GCM open and the HMAC key schedule.
///
/// An entry is used only while the device's sealed secret is byte for byte the one it was opened
/// from (and its algorithm the same), so a reseal, a re-enrollment under the same serial or a changed
/// row is opened afresh; a tampered row still fails the vault's authentication. The keys stay in this
/// process's memory, next to the vault key that opens every secret anyway; an ``OTPKey`` wipes its
/// state when the last reference goes. Bounded: when `capacity` devices are remembered, all are
/// forgotten (a flood of sign-ins for many devices cannot grow it).
final class OpenedKeyCache: Sendable {
    private struct Entry: Sendable {
        let sealed: [UInt8]
        let key: OTPKey
    }

    private let entries = Mutex<[ByteKey: Entry]>([:])  // serials as bytes
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    /// How many devices' keys are remembered.
    var count: Int { entries.withLock { $0.count } }

    /// The HMAC key of `device`: remembered, or opened with `vault` and remembered.
    func key(for device: DeviceRecord, vault: SecretVault) throws(MFAError) -> OTPKey {
        if let entry = entries.withLock({ $0[ByteKey(device.serial)] }), entry.sealed == device.sealedSecret, entry.key.algorithm == device.algorithm {
            return entry.key
        }
        let key = OTPKey(secret: try vault.open(device.sealedSecret, serial: device.serial), algorithm: device.algorithm)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[ByteKey(device.serial)] = Entry(sealed: device.sealedSecret, key: key)
        }
        return key
    }
}
