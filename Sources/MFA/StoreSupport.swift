/// What every store does the same way, written once below them: the drift history's column text, the
/// per-owner device limit, and how a database's own failure reaches the service.
public enum StoreSupport {
    /// The drift history as its column holds it: the offsets comma-separated ("" for none).
    public static func driftHistoryText(_ values: [Int64]) -> String { values.map(String.init).joined(separator: ",") }

    /// ``driftHistoryText(_:)`` read back (a part that is not a number is skipped, not fatal: the
    /// history only steers the drift estimate).
    public static func driftHistory(_ text: String) -> [Int64] { text.split(separator: ",").compactMap { Int64($0) } }

    /// Refuses a device for `owner` when `count` devices (not deactivated, the device itself not
    /// counted) already reach `maximum`.
    public static func checkOwnerLimit(owner: String, count: Int, maximum: Int) throws(MFAError) {
        if count >= maximum { throw MFAError(.limitExceeded, "user \(owner) already has \(count) devices (limit \(maximum))") }
    }

    /// A store's failure as the service sees it: the store's own typed errors unchanged, anything else
    /// `store-unavailable` naming the database (the detail is for the server log; the API hides it).
    /// `reflecting`: the error's debug description (a driver that redacts its plain one, as postgres-nio does).
    public static func storeError(_ database: String, _ error: any Error, reflecting: Bool = false) -> MFAError {
        if let error = error as? MFAError { return error }
        return MFAError(.storeUnavailable, "\(database): " + (reflecting ? String(reflecting: error) : String(describing: error)))
    }
}
