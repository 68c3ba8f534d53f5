import Foundation
import MFA
import Testing

/// The first admin key of a new store (issue 16, item 5): servers starting together make one.
@Suite("First admin key: one for several processes starting together")
struct FirstAdminKeyTests {
    @Test("eight concurrent first starts on one store (separate store instances): one key", arguments: StoreKind.inThisRun)
    func oneKey(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        var services = [h.service]
        for _ in 0..<7 { services.append(try await h.otherProcess()) }
        let made = try await withThrowingTaskGroup(of: Bool.self) { group in
            for service in services { group.addTask { try await service.createFirstAdminKey(actor: "serve") != nil } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(made == 1)
        let keys = try await h.service.apiKeys()
        #expect(keys.count == 1 && keys[0].scopes == [.admin])
        #expect(try await h.service.createFirstAdminKey(actor: "serve") == nil)
        #expect(try await h.service.verifyAuditChain().ok)
    }
}
