import Foundation
@testable import MFA
import MFAStoreSQLite
import OTP
import TestSupport
import Testing

/// The conformance suite's concurrency cases: several store instances (processes) and racing writes.
extension StoreConformanceTests {
    @Test("200 concurrent verifies of one valid code from two store instances: exactly one accepted", arguments: StoreKind.inThisRun)
    func concurrentReplay(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("noah")
        h.clock.advance(30)
        let code = try h.totp(secret)
        let other = try await h.otherProcess()
        let results = try await withThrowingTaskGroup(of: VerifyResult.self) { group in
            for i in 0..<200 {
                let service = i % 2 == 0 ? h.service : other
                group.addTask { try await service.verify(user: "noah", code: code, actor: "load") }
            }
            return try await group.reduce(into: [VerifyResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == .accepted(serial: serial) }.count == 1)
        #expect(results.filter { $0 == .rejected }.count == 199)
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000).filter { $0.draft.actor == "load" }
        #expect(entries.filter { $0.draft.result == "accepted" }.count == 1)
        // Whoever lost the race was told "replay", never "invalid-code": no failure counted, no lock.
        #expect(entries.filter { $0.draft.detail == "replay" }.count == 199)
        #expect(try #require(try await h.store.device(serial: serial)).failureCount == 0)
    }

    /// PostgreSQL writes a batch in one statement when this process knows the audit head; a head moved
    /// by another process, or an acceptance that another batch won, makes that statement change nothing
    /// and the batch take the transaction way.
    @Test("sign-ins after another store instance moved the audit head, and racing acceptances: each code once, one unbroken chain", arguments: StoreKind.inThisRun)
    func batchesAfterForeignWrites(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let (serial, secret) = try await h.enrolledVirtual("pia")
        let other = try await h.otherProcess()
        // Both instances learn the head, then each moves it under the other.
        for service in [h.service, other, h.service, other] {
            #expect(try await service.verify(user: "pia", code: "000000", actor: "warm") == .rejected)
        }
        h.clock.advance(30)
        let code = try h.totp(secret)
        #expect(try await h.service.verify(user: "pia", code: code, actor: "load") == .accepted(serial: serial))
        #expect(try await other.verify(user: "pia", code: code, actor: "load") == .rejected)
        // Racing waves: every wave's code is accepted exactly once across both instances.
        for wave in 1...3 {
            h.clock.advance(30)
            let code = try h.totp(secret)
            let results = try await withThrowingTaskGroup(of: VerifyResult.self) { group in
                for i in 0..<60 {
                    let service = i % 2 == 0 ? h.service : other
                    group.addTask { try await service.verify(user: "pia", code: code, actor: "wave\(wave)") }
                }
                return try await group.reduce(into: [VerifyResult]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == .accepted(serial: serial) }.count == 1, "wave \(wave)")
        }
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000)
        #expect(entries.filter { $0.draft.actor.hasPrefix("wave") && $0.draft.result == "accepted" }.count == 3)
        #expect(entries.filter { $0.draft.actor.hasPrefix("wave") }.count == 180)
        #expect(try #require(try await h.store.device(serial: serial)).failureCount == 0)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    /// With one instance, most failures share a group-commit batch (PostgreSQL counts a device's
    /// failures of one batch in one row); with two, the instances' batches also race each other.
    @Test("concurrent failures from one or two store instances lock the device exactly at the limit", arguments: StoreKind.inThisRun, [1, 2])
    func concurrentFailures(kind: StoreKind, instances: Int) async throws {
        let h = try await Harness.make(kind)
        let (serial, _) = try await h.enrolledVirtual("olga")
        let other = instances == 2 ? try await h.otherProcess() : h.service
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                let service = i % 2 == 0 ? h.service : other
                group.addTask { _ = try await service.verify(user: "olga", code: "999999", actor: "load") }
            }
            try await group.waitForAll()
        }
        let device = try #require(try await h.store.device(serial: serial))
        #expect(device.state == .locked && device.failureCount == 10 && device.lockouts == 1)
        let locks = try await h.service.auditEntries(after: 0, limit: 1_000).filter { $0.draft.action == "device.lock" }
        #expect(locks.count == 1)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("audit appends racing from two store instances on an empty chain (group-committed and in their own transactions): one unbroken chain holds every entry", arguments: StoreKind.inThisRun)
    func concurrentAppendsFromEmptyChain(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        #expect(try await h.store.auditCheckpoint() == nil)
        let services = [h.service, try await h.otherProcess()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<160 {
                let service = services[i % 2]
                group.addTask {
                    if i % 4 < 2 {
                        // A device creation: its own transaction, no retry behind it.
                        _ = try await service.createVirtual(user: "racer\(i)", actor: "race")
                    } else {
                        try await service.store.appendAudit(
                            AuditDraft(time: 1_700_000_000, actor: "race", action: "test.append", user: nil, serial: nil, result: "ok", detail: "entry \(i)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000)
        #expect(entries.map(\.sequence) == Array(1...160))
        #expect(entries.filter { $0.draft.action == "device.create" }.count == 80)
        #expect(Set(entries.compactMap { $0.draft.action == "test.append" ? $0.draft.detail : nil }) == Set((0..<160).filter { $0 % 4 >= 2 }.map { "entry \($0)" }))
        #expect(try await h.store.auditCheckpoint()?.sequence == 160)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("group commit: 40 concurrent mixed writes (accepts, replays, failures, duplicate registrations) each get their own outcome", arguments: StoreKind.inThisRun)
    func mixedConcurrentWrites(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        var users: [(name: String, code: String)] = []
        for i in 0..<10 {
            let (_, secret) = try await h.enrolledVirtual("user\(i)")
            users.append(("user\(i)", try h.totp(secret, offset: 30)))
        }
        let secret = try OTPSecret(hex: "3132333435363738393031323334353637383930")
        enum Outcome: Sendable, Equatable { case accepted(String), rejected, registered, duplicate }
        let outcomes = try await withThrowingTaskGroup(of: (String, Outcome).self) { group in
            for (user, code) in users {
                for _ in 0..<2 {
                    group.addTask {
                        switch try await h.service.verify(user: user, code: code, actor: "load") {
                        case .accepted: return (user, .accepted(code))
                        case .rejected: return (user, .rejected)
                        }
                    }
                }
                let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
                group.addTask { (user, try await h.service.verify(user: user, code: wrong, actor: "load") == .rejected ? .rejected : .accepted(wrong)) }
            }
            for i in 0..<10 {
                group.addTask {
                    do {
                        try await h.service.register(serial: "HW-\(i % 5)", kind: .hardwareHOTP, secret: secret, actor: "load")
                        return ("HW-\(i % 5)", .registered)
                    } catch let error as MFAError where error.code == .alreadyExists {
                        return ("HW-\(i % 5)", .duplicate)
                    }
                }
            }
            return try await group.reduce(into: [(String, Outcome)]()) { $0.append($1) }
        }
        for (user, code) in users {
            let mine = outcomes.filter { $0.0 == user }.map(\.1)
            #expect(mine.filter { $0 == .accepted(code) }.count == 1, "\(user): \(mine)")
            #expect(mine.filter { $0 == .rejected }.count == 2, "\(user): \(mine)")
        }
        for i in 0..<5 {
            #expect(outcomes.filter { $0.0 == "HW-\(i)" }.map(\.1).sorted { "\($0)" < "\($1)" } == [.duplicate, .registered])
        }
        #expect(try await h.store.devices(assignment: .unassigned).count == 5)
        let entries = try await h.service.auditEntries(after: 0, limit: 1_000)
        #expect(entries.filter { $0.draft.action == "verify" && $0.draft.actor == "load" }.count == 30)
        #expect(entries.filter { $0.draft.action == "device.register" && $0.draft.result == "ok" }.count == 5)
        #expect(entries.filter { $0.draft.action == "device.register" && $0.draft.result == "refused" }.map(\.draft.detail).allSatisfy { $0.hasPrefix("already-exists") })
        #expect(try await h.service.verifyAuditChain().ok)
    }
}
