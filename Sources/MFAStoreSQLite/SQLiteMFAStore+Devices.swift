import Foundation
import GRDB
import MFA

// MARK: Devices

extension SQLiteMFAStore {
    public func insert(_ device: DeviceRecord, maximumPerOwner: Int, audit: AuditDraft) async throws(MFAError) {
        try await write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM devices WHERE serial = ?", arguments: [device.serial]) != nil {
                throw MFAError(.alreadyExists, "a device with serial \(device.serial) exists")
            }
            if let owner = device.owner { try Self.checkLimit(db, owner: owner, excluding: device.serial, maximum: maximumPerOwner) }
            _ = try RowBinder.run(try db.cachedStatement(sql: SQLiteDeviceRow.insertSQL), in: db) { SQLiteDeviceRow.bind(device, &$0) }
            try self.append(db, audit)
        }
    }

    public func insertBatch(_ devices: [DeviceRecord], audit: [AuditDraft]) async throws(MFAError) {
        try await write { db in
            // One prepared statement for every row; a taken serial inserts nothing and ends the
            // transaction (rolled back: all or nothing).
            let statement = try db.cachedStatement(sql: SQLiteDeviceRow.insertSQL + " ON CONFLICT(serial) DO NOTHING")
            for device in devices {
                if try RowBinder.run(statement, in: db, { SQLiteDeviceRow.bind(device, &$0) }) != 1 { throw MFAError(.alreadyExists, "a device with serial \(device.serial) exists; nothing was imported") }
            }
            try self.append(db, audit)
        }
    }

    public func seedIndex() async throws(MFAError) -> [SeedIndexEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT serial, seed_fingerprint FROM devices").map { row in
                SeedIndexEntry(serial: row["serial"], fingerprint: (row["seed_fingerprint"] as Data?).map { [UInt8]($0) })
            }
        }
    }

    public func devices(serials: [String]) async throws(MFAError) -> [DeviceRecord] {
        try await read { db in
            var found: [DeviceRecord] = []
            var start = 0
            while start < serials.count {
                let chunk = Array(serials[start..<min(serials.count, start + 500)])
                start += chunk.count
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                found += try Row.fetchAll(db, sql: "SELECT * FROM devices WHERE serial IN (\(marks))", arguments: StatementArguments(chunk)).map(SQLiteDeviceRow.record)
            }
            return found
        }
    }

    public func device(serial: String) async throws(MFAError) -> DeviceRecord? {
        try await read { db in try db.row(sql: "SELECT * FROM devices WHERE serial = ?", arguments: [serial]).map(SQLiteDeviceRow.record) }
    }

    public func devices(owner: String) async throws(MFAError) -> [DeviceRecord] {
        try await read { db in try Self.devices(owner: owner, db) }
    }

    /// `owner`'s devices, ordered by serial.
    static func devices(owner: String, _ db: Database) throws -> [DeviceRecord] {
        try db.rows(sql: "SELECT * FROM devices WHERE owner = ? ORDER BY serial", arguments: [owner]).map(SQLiteDeviceRow.record)
    }

    public func devices(assignment: Assignment) async throws(MFAError) -> [DeviceRecord] {
        let condition =
            switch assignment {
            case .assigned: "WHERE owner IS NOT NULL"
            case .unassigned: "WHERE owner IS NULL"
            case .any: ""
            }
        return try await read { db in try db.rows(sql: "SELECT * FROM devices \(condition) ORDER BY serial").map(SQLiteDeviceRow.record) }
    }

    public func update(_ device: DeviceRecord, maximumPerOwner: Int?, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write { db in
            if let maximumPerOwner, let owner = device.owner { try Self.checkLimit(db, owner: owner, excluding: device.serial, maximum: maximumPerOwner) }
            let changed = try RowBinder.run(try db.cachedStatement(sql: SQLiteDeviceRow.updateSQL), in: db) { row in
                SQLiteDeviceRow.bind(device, &row, includingSerial: false)
                row.add(device.serial)
                row.add(device.revision)
            }
            guard changed == 1 else { return false }
            try self.append(db, audit)
            return true
        }
    }

    public func delete(serial: String, revision: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await write { db in
            try db.run(sql: "DELETE FROM devices WHERE serial = ? AND revision = ?", arguments: [serial, revision])
            guard db.changesCount == 1 else { return false }
            try self.append(db, audit)
            return true
        }
    }

    /// Refuses a device for `owner` beyond `maximum` (the device `serial` itself not counted), inside the writer's transaction.
    static func checkLimit(_ db: Database, owner: String, excluding serial: String, maximum: Int) throws {
        let count = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM devices WHERE owner = ? AND state != 'deactivated' AND serial != ?", arguments: [owner, serial]) ?? 0
        try StoreSupport.checkOwnerLimit(owner: owner, count: count, maximum: maximum)
    }

    public func resealAll(_ transform: @Sendable (DeviceRecord) throws(MFAError) -> [UInt8], newChain: AuditChain, audit: AuditDraft)
        async throws(MFAError) -> Int
    {
        do {
            return try await withoutActuallyEscaping(transform) { transform in
            let reseal = transform
            // Straight to the pool, not through group commit: the transform must not outlive this call.
            return try await pool.write { db in
                let devices = try db.rows(sql: "SELECT * FROM devices").map(SQLiteDeviceRow.record)
                for device in devices {
                    try db.run(sql: "UPDATE devices SET sealed_secret = ?, revision = revision + 1 WHERE serial = ?",
                                   arguments: [Data(try reseal(device)), device.serial])
                }
                try db.execute(sql: "INSERT OR REPLACE INTO vault_key (id, key_id) VALUES (1, ?)", arguments: [Data(newChain.vaultKeyID)])
                try self.append(db, audit, chain: newChain)
                try Self.writeCheckpoint(self.cache.takeCheckpointDue(), chain: newChain, db)
                self.cache.forgetDevices()
                return devices.count
            }
            }
        } catch {
            cache.failed()
            throw StoreSupport.storeError("SQLite", error)
        }
    }
}
