import Foundation
import MFA
@testable import MFAServer
import MFAStoreSQLite
import OTP
import Testing

/// The server's API-key cache is keyed by the key id's bytes, and only ids that are 12 lowercase hex
/// digits byte for byte reach it.
@Suite("APIKeyCache: one entry per key id, by bytes")
struct APIKeyCacheTests {
    @Test("two keys are two entries, each token answers with its own record; a look-alike id is refused before the cache")
    func separateEntries() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        let store = try SQLiteMFAStore(path: path, chain: AuditChain(vault: vault))
        try await store.migrate()
        let service = MFAService(store: store, vault: vault, clock: { Int64(Date().timeIntervalSince1970) })
        let (a, tokenA) = try await service.createAPIKey(name: "a", scopes: [.admin], actor: "t")
        let (b, tokenB) = try await service.createAPIKey(name: "b", scopes: [.verifier], actor: "t")
        let cache = APIKeyCache(lifetime: .seconds(60))
        #expect(try await cache.authenticate(tokenA, service: service)?.id == a.id)
        #expect(try await cache.authenticate(tokenB, service: service)?.id == b.id)
        #expect(cache.count == 2)
        #expect(cache.cached(tokenA)?.record.id == a.id && cache.cached(tokenB)?.record.id == b.id)
        // The id with its last hex digit spelled as a fullwidth digit, or with a combining mark added:
        // not the key's id as bytes, so refused without a lookup.
        let id = Array(a.id)
        let secret = String(tokenA.split(separator: "_", maxSplits: 2)[2])
        for lookalike in [String(id.dropLast()) + "\u{FF10}", a.id + "\u{301}", a.id.uppercased()] where lookalike != a.id {
            #expect(try await cache.authenticate("mfa_\(lookalike)_\(secret)", service: service) == nil, "\(lookalike)")
        }
        #expect(cache.count == 2)
    }
}
