import OTP

/// An audit event before it is chained: what happened, to whom, with what result. Never a secret or
/// a code.
public struct AuditDraft: Sendable, Hashable {
    public var time: Int64
    /// Who did it: an API key id, `cli`, `system`.
    public var actor: String
    /// `device.create`, `device.enable`, `verify`, `device.resync`, `device.lock`, …
    public var action: String
    public var user: String?
    public var serial: String?
    /// `ok`, `rejected`, `replay`, `locked`, …
    public var result: String
    /// Free text without secrets (offsets, counts, reasons).
    public var detail: String

    public init(time: Int64, actor: String, action: String, user: String? = nil, serial: String? = nil, result: String, detail: String = "") {
        self.time = time
        self.actor = actor
        self.action = action
        self.user = user
        self.serial = serial
        self.result = result
        self.detail = detail
    }
}

/// A chained audit entry: `hash = SHA-256(previousHash ‖ encoding of the fields)`.
public struct AuditEntry: Sendable, Hashable {
    public let sequence: Int64
    public let draft: AuditDraft
    public let previousHash: [UInt8]
    public let hash: [UInt8]

    public init(sequence: Int64, draft: AuditDraft, previousHash: [UInt8], hash: [UInt8]) {
        self.sequence = sequence
        self.draft = draft
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The head of the chain as last written, MAC'd with a key the database does not hold: deleting the
/// newest entries (truncation) leaves a head that no longer matches it.
public struct AuditCheckpoint: Sendable, Hashable {
    public let sequence: Int64
    public let hash: [UInt8]
    public let mac: [UInt8]

    public init(sequence: Int64, hash: [UInt8], mac: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
        self.mac = mac
    }
}

/// The outcome of ``AuditChain/verify(_:checkpoint:)``.
public struct AuditVerification: Sendable, Hashable {
    public let entries: Int
    public let ok: Bool
    /// The first sequence number where the chain breaks, and why.
    public let brokenAt: Int64?
    public let reason: String?
    /// The newest entry's sequence number and hash when the chain is intact and not empty: what an
    /// admin records elsewhere, so that a later rollback of log and checkpoint together shows.
    public var headSequence: Int64? = nil
    public var headHash: [UInt8]? = nil
}

/// Hash-chain rules shared by every store.
public struct AuditChain: Sendable {
    let checkpointKey: [UInt8]
    /// The id of the vault key this chain signs with (and the store seals with): a store records it
    /// and refuses to open under another key (``MFAError/vaultKeyMismatch(recorded:given:)``).
    public let vaultKeyID: [UInt8]
    public static let genesis = [UInt8](repeating: 0, count: 32)

    public init(vault: SecretVault) {
        checkpointKey = vault.derivedKey("audit-checkpoint/v1")
        vaultKeyID = vault.keyID
    }

    /// The entry that follows `head` (nil: the first entry).
    public func entry(after head: (sequence: Int64, hash: [UInt8])?, _ draft: AuditDraft) -> AuditEntry {
        let sequence = (head?.sequence ?? 0) + 1
        let previous = head?.hash ?? Self.genesis
        return AuditEntry(sequence: sequence, draft: draft, previousHash: previous, hash: Self.hash(sequence, draft, previous))
    }

    /// The entries that follow `head`, one per draft, in order.
    public func entries(after head: (sequence: Int64, hash: [UInt8])?, _ drafts: [AuditDraft]) -> [AuditEntry] {
        var head = head
        var entries: [AuditEntry] = []
        entries.reserveCapacity(drafts.count)
        for draft in drafts {
            let entry = entry(after: head, draft)
            entries.append(entry)
            head = (entry.sequence, entry.hash)
        }
        return entries
    }

    /// The checkpoint for `entry`.
    public func checkpoint(for entry: AuditEntry) -> AuditCheckpoint {
        checkpoint(sequence: entry.sequence, hash: entry.hash)
    }

    /// The checkpoint for the entry `sequence` whose hash is `hash`.
    public func checkpoint(sequence: Int64, hash: [UInt8]) -> AuditCheckpoint {
        AuditCheckpoint(sequence: sequence, hash: hash, mac: mac(sequence, hash))
    }

    /// Verifies the whole chain, in sequence order, against the checkpoint: detects edited entries
    /// (hash), deleted or reordered ones (sequence gaps, previous-hash links) and truncation (the head
    /// is not the checkpoint, or the checkpoint's MAC is wrong). For a log of any length, feed a
    /// ``Verifier`` page by page instead.
    public func verify(_ entries: [AuditEntry], checkpoint: AuditCheckpoint?) -> AuditVerification {
        var verifier = Verifier(chain: self)
        verifier.feed(entries)
        return verifier.finish(checkpoint: checkpoint)
    }

    /// The chain's verification one page at a time, in constant memory: it keeps the previous hash,
    /// the expected sequence, the count and the first break, never the entries.
    public struct Verifier: Sendable {
        let chain: AuditChain
        private var previous = AuditChain.genesis
        private var expected: Int64 = 1
        private var count = 0
        private var broken: (at: Int64, reason: String)?

        public init(chain: AuditChain) { self.chain = chain }

        /// The next entries in sequence order (after the first break they are only counted).
        public mutating func feed(_ entries: some Sequence<AuditEntry>) {
            for entry in entries {
                count += 1
                guard broken == nil else { continue }
                if entry.sequence != expected {
                    broken = (entry.sequence, "sequence \(entry.sequence) where \(expected) was expected (entries deleted or reordered)")
                } else if entry.previousHash != previous {
                    broken = (entry.sequence, "entry \(entry.sequence) does not link to its predecessor")
                } else if AuditChain.hash(entry.sequence, entry.draft, entry.previousHash) != entry.hash {
                    broken = (entry.sequence, "entry \(entry.sequence) was altered (hash mismatch)")
                } else {
                    previous = entry.hash
                    expected += 1
                }
            }
        }

        /// The verdict once every entry was fed, against the stored signed checkpoint.
        public func finish(checkpoint: AuditCheckpoint?) -> AuditVerification {
            if let broken { return chain.broken(count, broken.at, broken.reason) }
            let headSequence = expected - 1
            guard let checkpoint else {
                if count == 0 { return AuditVerification(entries: 0, ok: true, brokenAt: nil, reason: nil) }
                return chain.broken(count, headSequence, "the signed checkpoint of the head is missing")
            }
            guard LibCrypto.constantTimeEquals(checkpoint.mac, chain.mac(checkpoint.sequence, checkpoint.hash)) else {
                return chain.broken(count, checkpoint.sequence, "the checkpoint's signature is wrong (forged, or another vault key)")
            }
            guard checkpoint.sequence == headSequence, checkpoint.hash == previous else {
                return chain.broken(count, min(checkpoint.sequence, headSequence + 1), "the log ends at \(headSequence) but the signed checkpoint is at \(checkpoint.sequence) (entries truncated or the head replaced)")
            }
            return AuditVerification(entries: count, ok: true, brokenAt: nil, reason: nil, headSequence: headSequence, headHash: previous)
        }
    }

    fileprivate func broken(_ count: Int, _ at: Int64, _ reason: String) -> AuditVerification {
        AuditVerification(entries: count, ok: false, brokenAt: at, reason: reason)
    }

    fileprivate func mac(_ sequence: Int64, _ hash: [UInt8]) -> [UInt8] {
        var message = Array("checkpoint".utf8)
        Self.append(sequence, to: &message)
        message += hash
        return LibCrypto.hmac(.sha256, key: checkpointKey, message: message)
    }

    static func hash(_ sequence: Int64, _ draft: AuditDraft, _ previous: [UInt8]) -> [UInt8] {
        let user = draft.user ?? "\u{0}", serial = draft.serial ?? "\u{0}"
        var message: [UInt8] = []
        // One allocation: every entry of a busy server is hashed here.
        message.reserveCapacity(previous.count + 8 * 8 + draft.actor.utf8.count + draft.action.utf8.count + user.utf8.count
            + serial.utf8.count + draft.result.utf8.count + draft.detail.utf8.count)
        message += previous
        append(sequence, to: &message)
        append(draft.time, to: &message)
        func field(_ text: String) {
            append(Int64(text.utf8.count), to: &message)
            message.append(contentsOf: text.utf8)
        }
        field(draft.actor)
        field(draft.action)
        field(user)
        field(serial)
        field(draft.result)
        field(draft.detail)
        return LibCrypto.digest(.sha256, message)
    }

    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let v = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
}
