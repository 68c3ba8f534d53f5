import MFA
import PostgresNIO

extension PostgresMFAStore {
    public func devices(state: DeviceState, createdBefore: Int64) async throws(MFAError) -> [DeviceRecord] {
        // The state is a literal (an enum's fixed name), so pending devices use the partial index.
        try await rows("SELECT * FROM devices WHERE state = '\(unescaped: state.rawValue)' AND created_at < \(createdBefore) ORDER BY created_at, serial")
    }
}
