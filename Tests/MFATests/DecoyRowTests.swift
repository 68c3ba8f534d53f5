import Foundation
import MFA
import Testing

/// Rejections look alike in the store too (issue 16, item 5): a sign-in without a usable device, and
/// a replay, write one real row (the decoy's) as a wrong code writes its device's row.
@Suite("The decoy row: every rejection writes a row")
struct DecoyRowTests {
    static let count = "SELECT failure_count FROM decoy WHERE serial = ''"

    @Test("unknown user, pending-only user, locked device and replay each count once on the decoy; a wrong code counts on its device", arguments: StoreKind.inThisRun)
    func everyKind(kind: StoreKind) async throws {
        var policy = Policy()
        policy.lockoutThreshold = 2
        let h = try await Harness.make(kind, policy: policy)
        #expect(try await h.integer(Self.count) == 0)

        #expect(try await h.service.verify(user: "nobody", code: "123456", actor: "t") == .rejected)
        #expect(try await h.integer(Self.count) == 1)

        _ = try await h.service.createVirtual(user: "pending", actor: "t")
        #expect(try await h.service.verify(user: "pending", code: "123456", actor: "t") == .rejected)
        #expect(try await h.integer(Self.count) == 2)

        let (serial, secret) = try await h.enrolledVirtual("alice")
        h.clock.advance(30)
        let code = try h.totp(secret)
        #expect(try await h.service.verify(user: "alice", code: code, actor: "t") == .accepted(serial: serial))
        #expect(try await h.service.verify(user: "alice", code: code, actor: "t") == .rejected)  // replay
        #expect(try await h.integer(Self.count) == 3)
        #expect(try await h.store.device(serial: serial)?.failureCount == 0)

        // Wrong codes count on the device, not on the decoy; the second locks it.
        #expect(try await h.service.verify(user: "alice", code: "000000", actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "alice", code: "000000", actor: "t") == .rejected)
        #expect(try await h.integer(Self.count) == 3)
        #expect(try await h.store.device(serial: serial)?.state == .locked)

        // Locked: the decoy again, and it is never reported locked (no `device.lock` entry for it).
        #expect(try await h.service.verify(user: "alice", code: try h.totp(secret), actor: "t") == .rejected)
        #expect(try await h.integer(Self.count) == 4)
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000)
        #expect(entries.filter { $0.draft.action == "device.lock" }.map(\.draft.serial) == [serial])
        #expect(entries.allSatisfy { $0.draft.serial != Decoy.serial })
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("concurrent rejections from two store instances are each counted on the decoy", arguments: StoreKind.inThisRun)
    func concurrent(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let other = try await h.otherProcess()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                let service = i.isMultiple(of: 2) ? h.service : other
                group.addTask {
                    let result = try await service.verify(user: "ghost\(i % 5)", code: "654321", actor: "t")
                    #expect(result == .rejected)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await h.integer(Self.count) == 40)
        #expect(try await h.service.list(user: "ghost0").isEmpty)
        #expect(try await h.service.verifyAuditChain().ok)
    }
}
