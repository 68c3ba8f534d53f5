import Foundation
import GRDB
import MFA
import OTP

/// The `devices` row, spelled once: its columns in order, the one encoder (``bind(_:_:)``, for the
/// inserts and the update) and the one decoder (``record(_:)``, for every read).
enum SQLiteDeviceRow {
    /// Every column but `revision`, which the statements set themselves (0 on insert, +1 on update).
    static let columns = [
        "serial", "kind", "owner", "state", "algorithm", "digits", "period", "counter", "watermark", "drift_steps", "drift_history",
        "failure_count", "lockouts", "locked_until", "created_at", "enabled_at", "last_used_at", "sealed_secret", "seed_fingerprint",
    ]

    static let insertSQL = "INSERT INTO devices (\(columns.joined(separator: ", ")), revision) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")), 0)"

    /// Every column but the key, compare-and-set on the revision: bind with ``bind(_:_:)`` minus the
    /// serial (`includingSerial: false`), then the serial and the revision read.
    static let updateSQL = """
        UPDATE devices SET \(columns.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")), revision = revision + 1
        WHERE serial = ? AND revision = ?
        """

    /// `d`'s values in ``columns`` order.
    static func bind(_ d: DeviceRecord, _ row: inout RowBinder, includingSerial: Bool = true) {
        if includingSerial { row.add(d.serial) }
        row.add(d.kind.rawValue)
        row.add(d.owner)
        row.add(d.state.rawValue)
        row.add(d.algorithm.rawValue)
        row.add(d.digits)
        row.add(d.period)
        row.add(d.counter)
        row.add(d.watermark)
        row.add(d.driftSteps)
        row.add(StoreSupport.driftHistoryText(d.driftHistory))
        row.add(d.failureCount)
        row.add(d.lockouts)
        row.add(d.lockedUntil)
        row.add(d.createdAt)
        row.add(d.enabledAt)
        row.add(d.lastUsedAt)
        row.add(d.sealedSecret)
        row.add(d.seedFingerprint)
    }

    static func record(_ row: Row) throws -> DeviceRecord {
        guard let kind = DeviceKind(rawValue: row["kind"]), let state = DeviceState(rawValue: row["state"]),
            let algorithm = HashAlgorithm(rawValue: row["algorithm"])
        else { throw MFAError(.storeUnavailable, "device \(row["serial"] as String) has an unreadable row") }
        var d = DeviceRecord(
            serial: row["serial"], kind: kind, owner: row["owner"], state: state, algorithm: algorithm, digits: row["digits"],
            period: row["period"], counter: row["counter"], sealedSecret: [UInt8](row["sealed_secret"] as Data), createdAt: row["created_at"])
        d.watermark = row["watermark"]
        d.driftSteps = row["drift_steps"]
        d.driftHistory = StoreSupport.driftHistory(row["drift_history"])
        d.failureCount = row["failure_count"]
        d.lockouts = row["lockouts"]
        d.lockedUntil = row["locked_until"]
        d.enabledAt = row["enabled_at"]
        d.lastUsedAt = row["last_used_at"]
        d.revision = row["revision"]
        d.seedFingerprint = (row["seed_fingerprint"] as Data?).map { [UInt8]($0) }
        return d
    }
}
