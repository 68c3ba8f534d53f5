import OTP

/// What an API key may do.
public enum Scope: String, Sendable, Hashable, CaseIterable, Codable {
    /// Everything.
    case admin
    /// List, resync, diagnose, unlock.
    case technician
    /// Verify sign-in codes only.
    case verifier
    /// Read `/metrics` only (a Prometheus scraper): counts of results and latencies, which tell an
    /// outsider how busy the service is and how many sign-ins fail.
    case metrics
}

/// A stored API key: its id, name and scopes, and the SHA-256 of its secret part (never the secret).
/// The name is unique among the keys not revoked, so an admin can tell keys apart and revoke the
/// right one; an optional expiry retires keys nobody remembers to revoke.
public struct APIKeyRecord: Sendable, Hashable {
    public let id: String
    public let name: String
    public let scopes: [Scope]
    public let secretHash: [UInt8]
    public let createdAt: Int64
    public var revokedAt: Int64?
    /// When the key stops authenticating (Unix seconds), or nil for never.
    public var expiresAt: Int64?
    /// When the key last authenticated, to within ``APIKeyTokens/lastUsedResolution`` seconds.
    public var lastUsedAt: Int64?

    public init(id: String, name: String, scopes: [Scope], secretHash: [UInt8], createdAt: Int64, revokedAt: Int64? = nil,
                expiresAt: Int64? = nil, lastUsedAt: Int64? = nil) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
    }

    public func allows(_ scope: Scope) -> Bool { revokedAt == nil && (scopes.contains(.admin) || scopes.contains(scope)) }

    /// Not revoked and not expired at `now`.
    public func isUsable(at now: Int64) -> Bool { revokedAt == nil && expiresAt.map { now < $0 } ?? true }

    /// `active`, `expired` or `revoked` at `now`.
    public func state(at now: Int64) -> String { revokedAt != nil ? "revoked" : isUsable(at: now) ? "active" : "expired" }
}

/// Issues and checks bearer tokens of the form `mfa_<id>_<secret>`: the id finds the record, the
/// secret (160 random bits, Base32) is compared by SHA-256 in constant time.
public enum APIKeyTokens {
    /// `last_used` is written at most once per this many seconds per key: a sign-in gateway's key
    /// authenticates thousands of times a second, and a write each time would double the store's load.
    public static let lastUsedResolution: Int64 = 60
    /// The longest expiry a key may be given (10 years).
    public static let maximumLifetime: Int64 = 10 * 366 * 86_400

    public static func generate(name: String, scopes: [Scope], now: Int64, expiresAt: Int64? = nil) -> (record: APIKeyRecord, token: String) {
        let id = Hex.encode(LibCrypto.randomBytes(6))
        let secret = Base32.encode(LibCrypto.randomBytes(20), padding: false).lowercased()
        let record = APIKeyRecord(id: id, name: name, scopes: scopes, secretHash: LibCrypto.digest(.sha256, Array(secret.utf8)), createdAt: now, expiresAt: expiresAt)
        return (record, "mfa_\(id)_\(secret)")
    }

    /// The id and secret of a token, or nil when it is not one of ours.
    public static func parse(_ token: String) -> (id: String, secret: String)? {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        // The id is 12 lowercase hex digits, byte for byte (never a string merely equivalent to one).
        guard parts.count == 3, parts[0].utf8.elementsEqual("mfa".utf8), parts[1].utf8.count == 12,
              parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }), !parts[2].isEmpty
        else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    public static func matches(_ record: APIKeyRecord, secret: String) -> Bool {
        LibCrypto.constantTimeEquals(record.secretHash, LibCrypto.digest(.sha256, Array(secret.utf8)))
    }
}

extension MFAService {
    /// Creates an API key that expires `lifetime` seconds from now (nil: never); the token is returned
    /// once. A name an active key already has is refused (`already-exists`), so names tell keys apart.
    public func createAPIKey(name: String, scopes: [Scope], lifetime: Int64? = nil, actor: String) async throws(MFAError) -> (record: APIKeyRecord, token: String) {
        return try await refusalAudited("apikey.create", actor: actor) { () async throws(MFAError) -> (record: APIKeyRecord, token: String) in
            guard !name.isEmpty, name.count <= 64, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw MFAError(.invalidInput, "a key name needs 1 to 64 printable characters")
            }
            guard !scopes.isEmpty else { throw MFAError(.invalidInput, "an API key needs at least one scope") }
            if let lifetime, !(1...APIKeyTokens.maximumLifetime).contains(lifetime) {
                throw MFAError(.invalidInput, "an API key's expiry must be 1 second to 10 years away")
            }
            let now = clock()
            let (record, token) = APIKeyTokens.generate(name: name, scopes: scopes, now: now, expiresAt: lifetime.map { now + $0 })
            let expiry = record.expiresAt.map { " expires \($0)" } ?? ""
            try await store.insertAPIKey(record, audit: AuditDraft(time: now, actor: actor, action: "apikey.create", result: "ok",
                                                                   detail: "\(record.id) \(name) \(scopes.map(\.rawValue).joined(separator: ","))\(expiry)"))
            return (record, token)
        }
    }

    /// The first admin key of a new store, or nil when the store already has a key (another process
    /// starting at the same time may have made it): the token is returned once.
    public func createFirstAdminKey(actor: String) async throws(MFAError) -> (record: APIKeyRecord, token: String)? {
        let now = clock()
        let (record, token) = APIKeyTokens.generate(name: "bootstrap admin", scopes: [.admin], now: now)
        let audit = AuditDraft(time: now, actor: actor, action: "apikey.create", result: "ok", detail: "\(record.id) bootstrap admin admin")
        return try await store.insertFirstAPIKey(record, audit: audit) ? (record, token) : nil
    }

    /// The key a bearer token belongs to, if valid, not revoked and not expired. Records the use
    /// (``APIKeyRecord/lastUsedAt``) when the stored one is older than the resolution.
    public func authenticate(token: String) async throws(MFAError) -> APIKeyRecord? {
        guard let (id, secret) = APIKeyTokens.parse(token), var record = try await store.apiKey(id: id) else { return nil }
        let now = clock()
        guard record.isUsable(at: now), APIKeyTokens.matches(record, secret: secret) else { return nil }
        if record.lastUsedAt.map({ now - $0 >= APIKeyTokens.lastUsedResolution }) ?? true {
            // Bookkeeping, not a decision: a store that cannot take this write fails the request's
            // own work anyway, and a sign-in must not fail over a timestamp.
            try? await store.touchAPIKey(id: id, at: now)
            record.lastUsedAt = now
        }
        return record
    }

    public func apiKeys() async throws(MFAError) -> [APIKeyRecord] { try await store.apiKeys() }

    /// Revokes key `id`: true when revoked now, false when it already was (nothing changed, like
    /// `deactivate`); `no-such-key` when there is no such key. `requestedBy` is the key making the
    /// request, if any: a key may not revoke itself (a script must not cut off its own access midway).
    @discardableResult
    public func revokeAPIKey(id: String, actor: String, requestedBy requester: String? = nil) async throws(MFAError) -> Bool {
        return try await refusalAudited("apikey.revoke", actor: actor) { () async throws(MFAError) -> Bool in
            if let requester, requester.utf8.elementsEqual(id.utf8) {
                throw MFAError(.conflict, "this request's own API key cannot revoke itself: use another admin key")
            }
            let now = clock()
            if try await store.revokeAPIKey(id: id, at: now, audit: AuditDraft(time: now, actor: actor, action: "apikey.revoke", result: "ok", detail: id)) {
                return true
            }
            guard try await store.apiKey(id: id) != nil else { throw MFAError(.noSuchKey, "no API key \(id)") }
            return false
        }
    }
}

extension MFAError {
    /// A new key named like one that is not revoked.
    public static func apiKeyNameTaken(_ name: String) -> MFAError {
        MFAError(.alreadyExists, "an API key named '\(name)' exists: choose another name, or revoke that key first")
    }
}
