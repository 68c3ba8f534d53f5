import MFA
import PostgresNIO

extension PostgresMFAStore {
    public func devices(state: DeviceState, createdBefore: Int64) async throws(MFAError) -> [DeviceRecord] {
        try await rows("SELECT * FROM devices WHERE state = \(state.rawValue) AND created_at < \(createdBefore) ORDER BY created_at, serial")
    }
}
