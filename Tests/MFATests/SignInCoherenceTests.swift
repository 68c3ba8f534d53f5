import Foundation
import MFA
@_spi(Testing) import MFAStoreSQLite
import OTP
import Testing

/// Sign-ins are decided on what the store remembers (SQLite: the writer's cache). These tests hold
/// that memory to the stored rows: changes made by another process are seen by the very next
/// sign-in, and what a sign-in leaves behind is exactly what is stored.
@Suite("Sign-in coherence: foreign commits, the writer cache and the audit checkpoint")
struct SignInCoherenceTests {
    @Test("a lock lifted and a device deactivated by another process count at the next sign-in", arguments: StoreKind.inThisRun)
    func foreignChangesSeen(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("uma")
        let other = try await h.otherProcess()
        // Ten failures here lock the device (and leave it remembered as locked).
        for _ in 0..<10 { #expect(try await h.service.verify(user: "uma", code: "000000", actor: "t") == .rejected) }
        #expect(try #require(try await h.store.device(serial: serial)).state == .locked)
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "uma", code: try h.totp(secret), actor: "t") == .rejected)
        // Another process lifts the lock: the next code is accepted here at once.
        try await other.unlock(serial: serial, actor: "other")
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "uma", code: try h.totp(secret), actor: "t") == .accepted(serial: serial))
        // Another process deactivates it: the next right code is rejected here at once, as "no-usable-device: 1 deactivated".
        try await other.deactivate(serial: serial, actor: "other")
        h.clock.advance(30)
        #expect(try await h.service.verify(user: "uma", code: try h.totp(secret), actor: "t") == .rejected)
        let last = try #require(try await h.service.auditEntries(after: 0, limit: 1_000).last)
        #expect(last.draft.action == "verify" && last.draft.detail == "no-usable-device: 1 deactivated", "\(last.draft.detail)")
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("the writer cache holds exactly the stored rows after concurrent accepts, replays, failures, locks and failed jobs")
    func writerCacheMatchesRows() async throws {
        let h = try await Harness.make(.sqlite)
        let store = try #require(h.store as? SQLiteMFAStore)
        var users: [(name: String, secret: OTPSecret)] = []
        for i in 0..<6 {
            let (_, secret) = try await h.enrolledVirtual("c\(i)")
            users.append(("c\(i)", secret))
        }
        // A second device for one user: both are checked, one accepts.
        try await h.enrolledVirtual("c0")
        let hardware = try OTPSecret(hex: "3132333435363738393031323334353637383930")
        func round(registering: Bool, _ number: Int) async throws {
            h.clock.advance(30)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, user) in users.enumerated() {
                    if index == 5 {
                        // c5 gets wrong codes only: 4 a round, so it locks at 10 in the third round.
                        for _ in 0..<4 { group.addTask { _ = try await h.service.verify(user: user.name, code: "000000", actor: "load") } }
                        continue
                    }
                    let code = try h.totp(user.secret)
                    group.addTask { _ = try await h.service.verify(user: user.name, code: code, actor: "load") }
                    group.addTask { _ = try await h.service.verify(user: user.name, code: code, actor: "load") }
                    group.addTask { _ = try await h.service.verify(user: user.name, code: "000000", actor: "load") }
                }
                // Jobs that fail in the same transactions (duplicate serials) roll back to their savepoints.
                for i in 0..<(registering ? 4 : 0) {
                    group.addTask {
                        do { try await h.service.register(serial: "HW-\(number)-\(i % 2)", kind: .hardwareHOTP, secret: hardware, actor: "load") } catch let error as MFAError where error.code == .alreadyExists {}
                    }
                }
                try await group.waitForAll()
            }
        }
        try await round(registering: true, 0)
        // Then sign-ins only, so the cache's own updates (not fresh reads) are what is compared.
        for number in 1...3 { try await round(registering: false, number) }
        // Last, in order: a failure then an acceptance, which must clear the count it left.
        h.clock.advance(30)
        for user in users.prefix(5) {
            #expect(try await h.service.verify(user: user.name, code: "000000", actor: "last") == .rejected)
            #expect(try await h.service.verify(user: user.name, code: try h.totp(user.secret), actor: "last") != .rejected)
        }
        var remembered = 0
        for user in users {
            let stored = try await h.store.devices(owner: user.name)
            if let cached = store.cachedDevices(owner: user.name) {
                #expect(cached == stored, "\(user.name)")
                remembered += 1
            }
        }
        #expect(remembered > 0)
        let locked = try await h.store.devices(owner: "c5")
        #expect(locked.count == 1 && locked[0].state == .locked && locked[0].failureCount == 10 && locked[0].lockouts == 1)
        // The checkpoint moved once per transaction, to the head, whatever rolled back.
        #expect(try await h.service.verifyAuditChain().ok)
        let accepted = try await h.service.auditEntries(after: 0, limit: 10_000).filter { $0.draft.result == "accepted" && $0.draft.actor == "load" }
        #expect(accepted.count == 4 * 5)
        #expect(try await h.store.devices(assignment: .unassigned).count == 2)
    }
}
