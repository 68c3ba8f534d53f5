// MARK: Which audit entries to read

/// A page of the audit log as an admin asks for it: the newest first (what happened just now) or the
/// oldest first from a sequence number (a script following the log), narrowed to a user, a device, an
/// action or a time. Names and serials match as bytes, as everywhere identities are compared.
public struct AuditQuery: Sendable, Hashable {
    public enum Order: String, Sendable, Hashable, CaseIterable {
        case newestFirst = "newest"
        case oldestFirst = "oldest"
    }

    /// Only entries with a sequence number above this one.
    public var after: Int64 = 0
    /// Only entries with a sequence number below this one (paging back from the newest).
    public var before: Int64?
    /// Only entries at or after this Unix time.
    public var since: Int64?
    public var user: String?
    public var serial: String?
    /// An action (`verify`) or a family of them (`device` matches `device.lock`, `device.create`, …).
    public var action: String?
    public var order: Order = .oldestFirst
    public var limit: Int = 100

    public init(after: Int64 = 0, before: Int64? = nil, since: Int64? = nil, user: String? = nil, serial: String? = nil, action: String? = nil,
                order: Order = .oldestFirst, limit: Int = 100) {
        self.after = after
        self.before = before
        self.since = since
        self.user = user
        self.serial = serial
        self.action = action
        self.order = order
        self.limit = limit
    }
}

extension MFAStore {
    /// Entries with sequence > `after`, oldest first, at most `limit` (following the log).
    public func auditEntries(after: Int64, limit: Int) async throws(MFAError) -> [AuditEntry] {
        try await auditEntries(AuditQuery(after: after, limit: limit))
    }
}
