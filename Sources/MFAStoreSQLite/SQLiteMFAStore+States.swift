import GRDB
import MFA

extension SQLiteMFAStore {
    public func devices(state: DeviceState, createdBefore: Int64) async throws(MFAError) -> [DeviceRecord] {
        try await read { db in
            try db.rows(
                sql: "SELECT * FROM devices WHERE state = ? AND created_at < ? ORDER BY created_at, serial",
                arguments: [state.rawValue, createdBefore]
            ).map(Self.record)
        }
    }
}
