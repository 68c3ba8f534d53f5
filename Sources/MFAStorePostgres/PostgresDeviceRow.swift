import MFA
import NIOCore
import OTP
import PostgresNIO

/// The `devices` row, spelled once: its columns in order, the one encoder (``bind(_:into:)``, for
/// the inserts and the update) and the one decoder (``record(_:)``, for every read).
enum PostgresDeviceRow {
    static let columns = [
        "serial", "kind", "owner", "state", "algorithm", "digits", "period", "counter", "watermark", "drift_steps", "drift_history",
        "failure_count", "lockouts", "locked_until", "created_at", "enabled_at", "last_used_at", "sealed_secret", "seed_fingerprint", "revision",
    ]

    static let columnList = columns.joined(separator: ", ")

    /// `(serial, kind, …) VALUES ($1…$20), ($21…$40), …` for `rows` devices bound in order.
    static func insertSQL(rows: Int) -> String {
        let values = (0..<rows).map { n in "(" + (1...columns.count).map { "$\(n * columns.count + $0)" }.joined(separator: ",") + ")" }
        return "INSERT INTO devices (\(columnList)) VALUES \(values.joined(separator: ","))"
    }

    /// Every column but the key and the revision, compare-and-set on the revision: $1 is the serial,
    /// $2 the revision read, then the columns from `kind` to `seed_fingerprint` (``bind(_:into:)``'s order).
    static let updateSQL: String = {
        let assignments = columns.dropFirst().dropLast().enumerated().map { "\($1) = $\($0 + 3)" }.joined(separator: ", ")
        return "UPDATE devices SET \(assignments), revision = revision + 1 WHERE serial = $1 AND revision = $2 RETURNING 1"
    }()

    /// `d`'s values in ``columns`` order; without `serial` and `revision` for ``updateSQL``.
    static func bind(_ d: DeviceRecord, into binds: inout PostgresBindings, keyAndRevision: Bool = true) throws {
        if keyAndRevision { try binds.append(d.serial) }
        try binds.append(d.kind.rawValue)
        try binds.append(d.owner)
        try binds.append(d.state.rawValue)
        try binds.append(d.algorithm.rawValue)
        try binds.append(Int64(d.digits))
        try binds.append(d.period)
        try binds.append(d.counter)
        try binds.append(d.watermark)
        try binds.append(d.driftSteps)
        try binds.append(StoreSupport.driftHistoryText(d.driftHistory))
        try binds.append(Int64(d.failureCount))
        try binds.append(Int64(d.lockouts))
        try binds.append(d.lockedUntil)
        try binds.append(d.createdAt)
        try binds.append(d.enabledAt)
        try binds.append(d.lastUsedAt)
        try binds.append(ByteBuffer(bytes: d.sealedSecret))
        try binds.append(d.seedFingerprint.map { ByteBuffer(bytes: $0) })
        if keyAndRevision { try binds.append(d.revision) }
    }

    static func record(_ row: PostgresRow) throws -> DeviceRecord {
        let r = row.makeRandomAccess()
        let serial = try r["serial"].decode(String.self)
        guard let kind = DeviceKind(rawValue: try r["kind"].decode(String.self)), let state = DeviceState(rawValue: try r["state"].decode(String.self)),
            let algorithm = HashAlgorithm(rawValue: try r["algorithm"].decode(String.self))
        else { throw MFAError(.storeUnavailable, "device \(serial) has an unreadable row") }
        var d = DeviceRecord(
            serial: serial, kind: kind, owner: try r["owner"].decode(String?.self), state: state, algorithm: algorithm,
            digits: Int(try r["digits"].decode(Int64.self)), period: try r["period"].decode(Int64.self), counter: try r["counter"].decode(Int64.self),
            sealedSecret: PostgresMFAStore.bytes(try r["sealed_secret"].decode(ByteBuffer.self)), createdAt: try r["created_at"].decode(Int64.self))
        d.watermark = try r["watermark"].decode(Int64.self)
        d.driftSteps = try r["drift_steps"].decode(Int64.self)
        d.driftHistory = StoreSupport.driftHistory(try r["drift_history"].decode(String.self))
        d.failureCount = Int(try r["failure_count"].decode(Int64.self))
        d.lockouts = Int(try r["lockouts"].decode(Int64.self))
        d.lockedUntil = try r["locked_until"].decode(Int64?.self)
        d.enabledAt = try r["enabled_at"].decode(Int64?.self)
        d.lastUsedAt = try r["last_used_at"].decode(Int64?.self)
        d.revision = try r["revision"].decode(Int64.self)
        d.seedFingerprint = try r["seed_fingerprint"].decode(ByteBuffer?.self).map(PostgresMFAStore.bytes)
        return d
    }
}
