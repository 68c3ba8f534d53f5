import GRDB
import MFA

extension SQLiteMFAStore {
    public func devices(state: DeviceState, createdBefore: Int64) async throws(MFAError) -> [DeviceRecord] {
        // The state is a literal (an enum's fixed name), so pending devices use the partial index.
        try await read { db in
            try db.rows(
                sql: "SELECT * FROM devices WHERE state = '\(state.rawValue)' AND created_at < ? ORDER BY created_at, serial",
                arguments: [createdBefore]
            ).map(SQLiteDeviceRow.record)
        }
    }
}
