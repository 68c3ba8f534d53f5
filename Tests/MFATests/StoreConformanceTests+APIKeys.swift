import Foundation
@testable import MFA
import OTP
import Testing

/// The conformance suite's API-key cases: names unique among active keys, expiry, last use.
extension StoreConformanceTests {
    @Test("API key names are unique among keys not revoked (byte for byte); a revoked key's name is free again", arguments: StoreKind.inThisRun)
    func apiKeyNames(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (first, _) = try await h.service.createAPIKey(name: "gateway", scopes: [.verifier], actor: "cli")
        let before = try await h.service.auditEntries(after: 0, limit: 1_000).count
        await #expect(throws: MFAError(.alreadyExists, "")) { _ = try await h.service.createAPIKey(name: "gateway", scopes: [.admin], actor: "cli") }
        // A refused create stores no key, only its refusal in the audit.
        let added = try await h.service.auditEntries(after: Int64(before), limit: 1_000).map(\.draft)
        #expect(added.map(\.action) == ["apikey.create"] && added.map(\.result) == ["refused"], "\(added)")
        #expect(try await h.service.apiKeys().count == 1)
        // "é" precomposed and decomposed are different names (identities are bytes).
        _ = try await h.service.createAPIKey(name: "caf\u{E9}", scopes: [.verifier], actor: "cli")
        _ = try await h.service.createAPIKey(name: "cafe\u{301}", scopes: [.verifier], actor: "cli")
        #expect(try await h.service.revokeAPIKey(id: first.id, actor: "cli"))
        let (second, _) = try await h.service.createAPIKey(name: "gateway", scopes: [.verifier], actor: "cli")
        #expect(try await h.service.apiKeys().filter { $0.name == "gateway" }.map(\.id).sorted() == [first.id, second.id].sorted())
        // Two creates of one name at once: exactly one wins.
        async let a = try? await h.service.createAPIKey(name: "race", scopes: [.verifier], actor: "cli")
        async let b = try? await h.otherProcess().createAPIKey(name: "race", scopes: [.verifier], actor: "cli")
        let results = await [a, b]
        #expect(results.compactMap { $0 }.count == 1)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("an API key with an expiry authenticates until then and is listed as expired after", arguments: StoreKind.inThisRun)
    func apiKeyExpiry(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (record, token) = try await h.service.createAPIKey(name: "temp", scopes: [.technician], lifetime: 3_600, actor: "cli")
        #expect(record.expiresAt == h.clock.now + 3_600)
        #expect(try await h.store.apiKey(id: record.id)?.expiresAt == h.clock.now + 3_600)
        #expect(try await h.service.authenticate(token: token) != nil)
        h.clock.advance(3_599)
        #expect(try await h.service.authenticate(token: token) != nil)
        h.clock.advance(1)
        #expect(try await h.service.authenticate(token: token) == nil, "expired at its expiry")
        #expect(try #require(try await h.store.apiKey(id: record.id)).state(at: h.clock.now) == "expired")
        await #expect(throws: MFAError(.invalidInput, "")) { _ = try await h.service.createAPIKey(name: "t", scopes: [.admin], lifetime: 0, actor: "cli") }
        await #expect(throws: MFAError(.invalidInput, "")) {
            _ = try await h.service.createAPIKey(name: "t", scopes: [.admin], lifetime: APIKeyTokens.maximumLifetime + 1, actor: "cli")
        }
        let entry = try #require(try await h.service.auditEntries(after: 0, limit: 100).first { $0.draft.action == "apikey.create" })
        #expect(entry.draft.detail.contains("expires \(record.expiresAt!)"))
    }

    @Test("authenticating records the key's last use, at most once per resolution", arguments: StoreKind.inThisRun)
    func apiKeyLastUsed(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (record, token) = try await h.service.createAPIKey(name: "gateway", scopes: [.verifier], actor: "cli")
        #expect(try await h.store.apiKey(id: record.id)?.lastUsedAt == nil)
        let t0 = h.clock.now
        #expect(try await h.service.authenticate(token: token)?.lastUsedAt == t0)
        #expect(try await h.store.apiKey(id: record.id)?.lastUsedAt == t0)
        h.clock.advance(APIKeyTokens.lastUsedResolution - 1)
        _ = try await h.service.authenticate(token: token)
        #expect(try await h.store.apiKey(id: record.id)?.lastUsedAt == t0, "within the resolution: no write")
        h.clock.advance(1)
        _ = try await h.service.authenticate(token: token)
        #expect(try await h.store.apiKey(id: record.id)?.lastUsedAt == t0 + APIKeyTokens.lastUsedResolution)
        // A wrong secret is not a use.
        h.clock.advance(600)
        _ = try await h.service.authenticate(token: String(token.dropLast()) + (token.hasSuffix("a") ? "b" : "a"))
        #expect(try await h.store.apiKey(id: record.id)?.lastUsedAt == t0 + APIKeyTokens.lastUsedResolution)
        // Bookkeeping is not audited.
        #expect(try await h.service.auditEntries(after: 0, limit: 100).allSatisfy { $0.draft.action != "apikey.use" })
    }
}
