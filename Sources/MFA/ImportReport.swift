import SeedImport

/// What happened to one key of an imported seed file.
public enum ImportStatus: String, Sendable, Hashable, Codable {
    /// Stored as unassigned inventory.
    case imported
    /// Already in the inventory with the same seed and parameters (a re-run of the same file).
    case skipped
    /// Refused by a quarantine check; `reason` says why.
    case rejected
    /// Passed every check but not stored, because other keys were rejected and the import is
    /// all-or-nothing (use `partial` to import the good ones).
    case held
}

/// One line of an import report. Never a seed.
public struct ImportKeyReport: Sendable, Hashable, Codable {
    /// 1-based KeyPackage number (PSKC) or line number (CSV).
    public let position: Int
    public let serial: String?
    /// `hardware-hotp` or `hardware-totp` when known.
    public let kind: String?
    public let status: ImportStatus
    public let reason: SeedIssue?
    public let warnings: [SeedIssue]

    public init(position: Int, serial: String?, kind: String?, status: ImportStatus, reason: SeedIssue?, warnings: [SeedIssue]) {
        self.position = position
        self.serial = serial
        self.kind = kind
        self.status = status
        self.reason = reason
        self.warnings = warnings
    }
}

/// The outcome of a seed-file import: counts, whether anything was stored, and one line per key.
public struct ImportReport: Sendable, Hashable, Codable {
    /// SHA-256 of the file, hex (also in the audit log).
    public let fingerprint: String
    public let format: String
    /// `plaintext`, `pre-shared-key` or `password`.
    public let protection: String
    /// Whether the good keys were stored (false: nothing changed).
    public let committed: Bool
    public let partial: Bool
    public let total: Int
    public let imported: Int
    public let skipped: Int
    public let rejected: Int
    public let held: Int
    /// Keys with at least one warning.
    public let warned: Int
    public let keys: [ImportKeyReport]

    public init(fingerprint: String, format: String, protection: String, committed: Bool, partial: Bool, keys: [ImportKeyReport]) {
        self.fingerprint = fingerprint
        self.format = format
        self.protection = protection
        self.committed = committed
        self.partial = partial
        self.keys = keys
        total = keys.count
        imported = keys.filter { $0.status == .imported }.count
        skipped = keys.filter { $0.status == .skipped }.count
        rejected = keys.filter { $0.status == .rejected }.count
        held = keys.filter { $0.status == .held }.count
        warned = keys.filter { !$0.warnings.isEmpty }.count
    }

    /// A one-line summary for people.
    public var summary: String {
        var text = "\(total) keys: \(imported) imported, \(skipped) skipped, \(rejected) rejected"
        if held > 0 { text += ", \(held) held back (all-or-nothing: nothing was imported; --partial imports the good ones)" }
        if warned > 0 { text += "; \(warned) with warnings" }
        return text
    }
}

/// Where an import is, for progress bars.
public struct ImportProgress: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case reading, checking, sealing, storing, done
    }
    public let phase: Phase
    public let done: Int
    /// 0 when not known yet (while reading).
    public let total: Int

    public init(phase: Phase, done: Int, total: Int) {
        self.phase = phase
        self.done = done
        self.total = total
    }
}
