/// A successful verification, to be committed only if no other process got there first.
public struct Acceptance: Sendable, Hashable {
    public var serial: String
    /// The accepted counter or TOTP step: the new replay watermark.
    public var step: Int64
    public var now: Int64
    /// HOTP: the next expected counter (`step + 1`). TOTP: unchanged.
    public var counter: Int64
    public var driftSteps: Int64
    public var driftHistory: [Int64]

    public init(serial: String, step: Int64, now: Int64, counter: Int64, driftSteps: Int64, driftHistory: [Int64]) {
        self.serial = serial
        self.step = step
        self.now = now
        self.counter = counter
        self.driftSteps = driftSteps
        self.driftHistory = driftHistory
    }
}

/// A device's serial and seed fingerprint, as import checks need them.
public struct SeedIndexEntry: Sendable, Hashable {
    public var serial: String
    public var fingerprint: [UInt8]?

    public init(serial: String, fingerprint: [UInt8]?) {
        self.serial = serial
        self.fingerprint = fingerprint
    }
}

/// The state of an idempotency key when a request tries to claim it.
public enum IdempotencyClaim: Sendable, Hashable {
    /// New (or expired): this request runs and must complete the key.
    case claimed
    /// Another request with this key finished: its stored response.
    case completed(String)
    /// Another request with this key is still running.
    case pending
    /// The key was used with a different request body.
    case conflict
}

/// Persistence of devices and the audit log. SQLite (embedded default) and PostgreSQL (shared by many
/// server processes) implement it; one conformance suite runs unchanged against both.
///
/// Every mutating call is one transaction that also appends its audit entry (hash-chained, with the
/// signed checkpoint moved to the new head), so a state change and its audit record commit together
/// or not at all. Replay state and failure counters change only through conditional updates, so any
/// number of processes can share a store.
public protocol MFAStore: Sendable {
    /// Creates or upgrades the schema (idempotent).
    func migrate() async throws(MFAError)

    /// Inserts a device. ``MFAError/Code/alreadyExists`` for a taken serial,
    /// ``MFAError/Code/limitExceeded`` when `device.owner` already has `maximumPerOwner` devices that
    /// are not deactivated (checked in the same transaction).
    func insert(_ device: DeviceRecord, maximumPerOwner: Int, audit: AuditDraft) async throws(MFAError)

    /// Inserts many devices in one transaction, all or nothing, with their audit entries (in order,
    /// after the devices). ``MFAError/Code/alreadyExists`` names the first serial that is taken; then
    /// nothing is stored. No per-owner limit is checked (batches are unassigned inventory).
    func insertBatch(_ devices: [DeviceRecord], audit: [AuditDraft]) async throws(MFAError)

    /// Serial and seed fingerprint of every device (for import checks; no secrets).
    func seedIndex() async throws(MFAError) -> [SeedIndexEntry]

    /// The devices among `serials` that exist (any order).
    func devices(serials: [String]) async throws(MFAError) -> [DeviceRecord]

    func device(serial: String) async throws(MFAError) -> DeviceRecord?
    func devices(owner: String) async throws(MFAError) -> [DeviceRecord]
    func devices(assignment: Assignment) async throws(MFAError) -> [DeviceRecord]
    /// Every owner's devices in `state` created before `createdBefore` (Unix seconds), ordered by
    /// creation time then serial: the pending enrollments to list or expire, without a scan per user.
    func devices(state: DeviceState, createdBefore: Int64) async throws(MFAError) -> [DeviceRecord]

    /// Replaces the stored row if its revision is still `device.revision` (and bumps the revision).
    /// With `maximumPerOwner`, also checks the owner's device count (assignment from inventory).
    /// Returns false when another writer changed the device first.
    func update(_ device: DeviceRecord, maximumPerOwner: Int?, audit: AuditDraft) async throws(MFAError) -> Bool

    /// Deletes the device if its revision is still `revision`.
    func delete(serial: String, revision: Int64, audit: AuditDraft) async throws(MFAError) -> Bool

    /// Commits a verification: `UPDATE … WHERE watermark < step` on a usable device (active, or locked
    /// with an expired lock), resetting failures and locks. Returns false for a replay (another
    /// verification already accepted this or a later step).
    func accept(_ acceptance: Acceptance, audit: AuditDraft) async throws(MFAError) -> Bool

    /// Counts one failed verification on each usable device of `serials`, atomically; a device whose
    /// count reaches `policy.lockoutThreshold` becomes locked for `policy.lockDuration(lockouts:)`.
    /// Returns the serials locked by this call. The empty serial (``Decoy/serial``, which no device
    /// can have) is the decoy's: the store writes a row of its own for it, the same kind of write a
    /// device's failure makes, and never reports it locked.
    func recordFailure(serials: [String], policy: Policy, now: Int64, audit: AuditDraft) async throws(MFAError) -> [String]

    /// A sign-in in one step: `decide` judges `owner`'s current devices (ordered by serial) and its
    /// decision is committed as ``accept(_:audit:)``, ``recordFailure(serials:policy:now:audit:)`` or
    /// ``appendAudit(_:)`` would. An acceptance never lands twice, whatever the staleness of the read:
    /// if the watermark moved first it is logged as a replay and rejected. The default implementation
    /// (in `SignIn.swift`) reads, decides and commits in three steps.
    func signIn(owner: String, _ decide: @escaping @Sendable ([DeviceRecord]) throws(MFAError) -> SignInDecision)
        async throws(MFAError) -> SignInOutcome

    /// Appends an audit entry on its own (events without a state change).
    func appendAudit(_ draft: AuditDraft) async throws(MFAError)

    /// The audit entries `query` selects, in its order, at most its limit.
    func auditEntries(_ query: AuditQuery) async throws(MFAError) -> [AuditEntry]

    func auditCheckpoint() async throws(MFAError) -> AuditCheckpoint?

    /// Re-seals every device's secret with `transform` and re-signs the audit checkpoint with
    /// `newChain`, in one transaction (vault key rotation). Returns the number of devices.
    func resealAll(_ transform: @Sendable (DeviceRecord) throws(MFAError) -> [UInt8], newChain: AuditChain, audit: AuditDraft)
        async throws(MFAError) -> Int

    /// Stores a new API key (hash only); `already-exists` when a key not revoked has its name (byte
    /// for byte), checked atomically with the insert.
    func insertAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError)
    /// Inserts `key` only if the store holds no API key at all, atomically across processes (two
    /// servers starting together on a new store make one first admin key); false when one exists.
    func insertFirstAPIKey(_ key: APIKeyRecord, audit: AuditDraft) async throws(MFAError) -> Bool
    func apiKey(id: String) async throws(MFAError) -> APIKeyRecord?
    func apiKeys() async throws(MFAError) -> [APIKeyRecord]
    /// Marks a key revoked; false when there is no such unrevoked key.
    func revokeAPIKey(id: String, at: Int64, audit: AuditDraft) async throws(MFAError) -> Bool
    /// Records that key `id` authenticated at `at` (not audited: bookkeeping, not a state change).
    func touchAPIKey(id: String, at: Int64) async throws(MFAError)

    /// Claims `key` for a request whose body hashes to `requestHash`. An entry older than `ttl`
    /// seconds counts as absent (and is replaced), and so does a claim of the same request still
    /// pending after `lease` seconds (its claimer died or failed). Atomic across processes. Expired
    /// entries are removed by ``purgeIdempotency(before:limit:)``, never here: a claim touches one row.
    func claimIdempotency(key: String, requestHash: [UInt8], now: Int64, ttl: Int64, lease: Int64) async throws(MFAError) -> IdempotencyClaim
    /// Deletes up to `limit` idempotency entries created before `before` (by the indexed creation
    /// time); returns how many.
    func purgeIdempotency(before: Int64, limit: Int) async throws(MFAError) -> Int
    /// Stores the response of a claimed key.
    func completeIdempotency(key: String, response: String) async throws(MFAError)
}
