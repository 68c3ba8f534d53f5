import MFA
import NIOCore
import PostgresNIO

// MARK: Devices

extension PostgresMFAStore {
    public func insert(_ d: DeviceRecord, maximumPerOwner: Int, audit: AuditDraft) async throws(MFAError) {
        try await transaction { c in
            if let owner = d.owner { try await self.checkLimit(c, owner: owner, excluding: d.serial, maximum: maximumPerOwner) }
            // The insert itself decides: of two concurrent registrations of one serial, one gets no row back.
            var binds = PostgresBindings(capacity: PostgresDeviceRow.columns.count)
            try PostgresDeviceRow.bind(d, into: &binds)
            let sql = PostgresDeviceRow.insertSQL(rows: 1) + " ON CONFLICT (serial) DO NOTHING RETURNING 1"
            let inserted = try await c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger).collect().count
            guard inserted == 1 else { throw MFAError(.alreadyExists, "a device with serial \(d.serial) exists") }
            try await self.append(c, audit)
        }
    }

    public func insertBatch(_ devices: [DeviceRecord], audit: [AuditDraft]) async throws(MFAError) {
        try await transaction { c in
            // Multi-row inserts of up to 1 000 devices (20 000 parameters, under PostgreSQL's 65 535).
            var start = 0
            while start < devices.count {
                let chunk = devices[start..<min(devices.count, start + 1_000)]
                start += chunk.count
                var binds = PostgresBindings(capacity: chunk.count * PostgresDeviceRow.columns.count)
                for device in chunk { try PostgresDeviceRow.bind(device, into: &binds) }
                let sql = PostgresDeviceRow.insertSQL(rows: chunk.count) + " ON CONFLICT (serial) DO NOTHING RETURNING serial"
                let inserted = Set(try await c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger).collect()
                    .map { ByteKey(try $0.makeRandomAccess()["serial"].decode(String.self)) })
                if inserted.count != chunk.count, let taken = chunk.first(where: { !inserted.contains(ByteKey($0.serial)) }) {
                    throw MFAError(.alreadyExists, "a device with serial \(taken.serial) exists; nothing was imported")
                }
            }
            try await Self.append(c, audit, chain: self.chain, logger: self.logger)
        }
    }

    public func seedIndex() async throws(MFAError) -> [SeedIndexEntry] {
        try await guarded {
            try await self.client.query("SELECT serial, seed_fingerprint FROM devices", logger: self.logger).collect().map { row in
                let r = row.makeRandomAccess()
                return SeedIndexEntry(serial: try r["serial"].decode(String.self), fingerprint: try r["seed_fingerprint"].decode(ByteBuffer?.self).map(Self.bytes))
            }
        }
    }

    public func devices(serials: [String]) async throws(MFAError) -> [DeviceRecord] {
        guard !serials.isEmpty else { return [] }
        return try await rows("SELECT * FROM devices WHERE serial = ANY(\(serials))")
    }

    public func device(serial: String) async throws(MFAError) -> DeviceRecord? {
        try await rows("SELECT * FROM devices WHERE serial = \(serial)").first
    }

    public func devices(owner: String) async throws(MFAError) -> [DeviceRecord] {
        try await guarded { try await self.client.execute(DevicesOfOwners(owners: [owner]), logger: self.logger).all() }
    }

    public func devices(assignment: Assignment) async throws(MFAError) -> [DeviceRecord] {
        switch assignment {
        case .assigned: try await rows("SELECT * FROM devices WHERE owner IS NOT NULL ORDER BY serial")
        case .unassigned: try await rows("SELECT * FROM devices WHERE owner IS NULL ORDER BY serial")
        case .any: try await rows("SELECT * FROM devices ORDER BY serial")
        }
    }

    public func update(_ d: DeviceRecord, maximumPerOwner: Int?, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            if let maximumPerOwner, let owner = d.owner {
                try await self.checkLimit(c, owner: owner, excluding: d.serial, maximum: maximumPerOwner)
            }
            var binds = PostgresBindings(capacity: PostgresDeviceRow.columns.count)
            try binds.append(d.serial)
            try binds.append(d.revision)
            try PostgresDeviceRow.bind(d, into: &binds, keyAndRevision: false)
            let changed = try await c.query(PostgresQuery(unsafeSQL: PostgresDeviceRow.updateSQL, binds: binds), logger: self.logger).collect().count
            guard changed == 1 else { return false }
            try await self.append(c, audit)
            return true
        }
    }

    public func delete(serial: String, revision: Int64, audit: AuditDraft) async throws(MFAError) -> Bool {
        try await transaction { c in
            let deleted = try await c.query("DELETE FROM devices WHERE serial = \(serial) AND revision = \(revision) RETURNING 1", logger: self.logger)
                .collect().count
            guard deleted == 1 else { return false }
            try await self.append(c, audit)
            return true
        }
    }

    public func resealAll(_ transform: @Sendable (DeviceRecord) throws(MFAError) -> [UInt8], newChain: AuditChain, audit: AuditDraft)
        async throws(MFAError) -> Int
    {
        do {
            return try await withoutActuallyEscaping(transform) { transform in
                let reseal = transform
                return try await transaction { c in
                    let devices = try await c.query("SELECT * FROM devices FOR UPDATE", logger: self.logger).collect().map(PostgresDeviceRow.record)
                    for device in devices {
                        _ = try await c.query(
                            "UPDATE devices SET sealed_secret = \(ByteBuffer(bytes: try reseal(device))), revision = revision + 1 WHERE serial = \(device.serial)",
                            logger: self.logger).collect()
                    }
                    _ = try await c.query("""
                        INSERT INTO vault_key (id, key_id) VALUES (1, \(ByteBuffer(bytes: newChain.vaultKeyID)))
                        ON CONFLICT (id) DO UPDATE SET key_id = EXCLUDED.key_id
                        """, logger: self.logger).collect()
                    try await self.append(c, audit, chain: newChain)
                    return devices.count
                }
            }
        } catch { throw StoreSupport.storeError("PostgreSQL", error) }
    }

    /// Refuses a device for `owner` beyond `maximum` (the device `serial` itself not counted), under
    /// an advisory lock of the owner held to the end of the caller's transaction.
    func checkLimit(_ c: PostgresConnection, owner: String, excluding serial: String, maximum: Int) async throws {
        _ = try await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || \(owner)))", logger: logger).collect()
        let count = try await c.query(
            "SELECT COUNT(*) AS n FROM devices WHERE owner = \(owner) AND state != 'deactivated' AND serial != \(serial)", logger: logger
        ).collect().first.map { try $0.makeRandomAccess()["n"].decode(Int64.self) } ?? 0
        try StoreSupport.checkOwnerLimit(owner: owner, count: Int(count), maximum: maximum)
    }


    func rows(_ query: PostgresQuery) async throws(MFAError) -> [DeviceRecord] {
        try await guarded { try await self.client.query(query, logger: self.logger).collect().map(PostgresDeviceRow.record) }
    }
}
