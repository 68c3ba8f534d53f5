import Foundation
import MFA
import OTP
import SeedImport
import TestSupport
import Testing

/// Seed-file import through MFAService on both stores: batch insert, python-pskc files in every
/// protection mode enabled and verified with oathtool's codes, quarantine, idempotency, hostile files.
@Suite("Seed import (SQLite and PostgreSQL)")
struct ImportConformanceTests {
    static let psk = "000102030405060708090a0b0c0d0e0f"

    static func oathtoolTOTP(_ hex: String, at time: Int64, digits: Int = 6, period: Int64 = 30) throws -> String {
        try TestTools.run("oathtool", ["--totp", "-d", "\(digits)", "-s", "\(period)s", "-N", "@\(time)", hex]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func oathtoolHOTP(_ hex: String, counter: Int64, digits: Int = 6) throws -> String {
        try TestTools.run("oathtool", ["--hotp", "-d", "\(digits)", "-c", "\(counter)", hex]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func randomHex(_ bytes: Int = 20) -> String { Hex.encode(LibCrypto.randomBytes(bytes)) }

    @Test("insertBatch: all rows and audit entries in one transaction; a taken serial stores nothing", arguments: StoreKind.inThisRun)
    func batchInsert(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        func record(_ serial: String) throws -> DeviceRecord {
            var r = DeviceRecord(serial: serial, kind: .hardwareTOTP, owner: nil, state: .unassigned, algorithm: .sha1, digits: 6, period: 30, counter: 0,
                                 sealedSecret: try h.vault.seal(OTPSecret.random(byteCount: 20), serial: serial), createdAt: h.clock.now)
            r.seedFingerprint = Array(repeating: UInt8(serial.count), count: 32)
            return r
        }
        let drafts = (1...3).map { AuditDraft(time: h.clock.now, actor: "t", action: "device.register", serial: "B\($0)", result: "ok") }
        try await h.store.insertBatch([try record("B1"), try record("B2"), try record("B3")], audit: drafts)
        #expect(try await h.store.devices(assignment: .unassigned).map(\.serial) == ["B1", "B2", "B3"])
        #expect(try await h.store.device(serial: "B2")?.seedFingerprint?.count == 32)
        #expect(Set(try await h.store.devices(serials: ["B1", "B3", "nope"]).map(\.serial)) == ["B1", "B3"])
        #expect(Set(try await h.store.seedIndex().map(\.serial)) == ["B1", "B2", "B3"])
        let audited = try await h.service.auditEntries().count
        await #expect(throws: MFAError(.alreadyExists, "")) {
            try await h.store.insertBatch([try record("B4"), try record("B2"), try record("B5")], audit: drafts)
        }
        #expect(try await h.store.devices(assignment: .any).count == 3)
        #expect(try await h.service.auditEntries().count == audited)
        #expect(try await h.service.verifyAuditChain().ok)
        // A large batch (multi-row statements on PostgreSQL).
        try await h.store.insertBatch(try (0..<2_500).map { try record("L" + String(100_000 + $0)) }, audit: [AuditDraft(time: 0, actor: "t", action: "x", result: "ok")])
        #expect(try await h.store.devices(assignment: .unassigned).count == 2_503)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("python-pskc files (plain, PSK, PBKDF2) import, enable with oathtool's codes and verify",
          arguments: StoreKind.inThisRun, [PSKCReference.Mode.plain, .psk, .pbkdf2])
    func pythonFiles(kind: StoreKind, mode: PSKCReference.Mode) async throws {
        let h = try await Harness.make(kind)
        let totpSeed = Self.randomHex(), hotpSeed = Self.randomHex(), sha256Seed = Self.randomHex(32)
        let tokens = [
            PSKCReference.Token(serial: "T-\(mode.rawValue)", seedHex: totpSeed, type: "totp", digits: 6),
            PSKCReference.Token(serial: "H-\(mode.rawValue)", seedHex: hotpSeed, type: "hotp", digits: 8, counter: 3),
            PSKCReference.Token(serial: "S-\(mode.rawValue)", seedHex: sha256Seed, type: "totp", digits: 6, suite: "HMAC-SHA256"),
        ]
        let secret: String? = mode == .plain ? nil : mode == .psk ? Self.psk : "pass phrase"
        let protection: TransportProtection = mode == .plain ? .none : mode == .psk ? try .preSharedKey(hex: Self.psk) : .password("pass phrase")
        let file = try PSKCReference.write(tokens, mode: mode, secret: secret)
        let report = try await h.service.importSeeds(file, protection: protection, actor: "test")
        #expect(report.committed && report.imported == 3 && report.rejected == 0 && report.total == 3)
        #expect(report.fingerprint == Hex.encode(LibCrypto.digest(.sha256, file)))
        let inventory = try await h.service.inventory(.unassigned)
        #expect(inventory.count == 3 && inventory.allSatisfy { $0.state == .unassigned && $0.owner == nil })
        let sha256Device = try #require(try await h.store.device(serial: "S-\(mode.rawValue)"))
        #expect(sha256Device.algorithm == .sha256 && sha256Device.kind == .hardwareTOTP)
        // Sealed at rest: the seed bytes are not in the stored row.
        #expect(!sha256Device.sealedSecret.contains(subsequence: try Hex.decode(sha256Seed)))

        // TOTP: assign and activate with two consecutive oathtool codes, then a later code verifies once.
        let now = h.clock.now
        try await h.service.enable(user: "ann", serial: "T-\(mode.rawValue)", code1: Self.oathtoolTOTP(totpSeed, at: now - 30),
                                   code2: Self.oathtoolTOTP(totpSeed, at: now), actor: "test")
        h.clock.advance(30)
        let code = try Self.oathtoolTOTP(totpSeed, at: h.clock.now)
        #expect(try await h.service.verify(serial: "T-\(mode.rawValue)", code: code, actor: "t") == .accepted(serial: "T-\(mode.rawValue)"))
        #expect(try await h.service.verify(serial: "T-\(mode.rawValue)", code: code, actor: "t") == .rejected)
        // HOTP, counter 3 in the file: codes 3 and 4 enable, 5 verifies.
        try await h.service.enable(user: "bo", serial: "H-\(mode.rawValue)", code1: Self.oathtoolHOTP(hotpSeed, counter: 3, digits: 8),
                                   code2: Self.oathtoolHOTP(hotpSeed, counter: 4, digits: 8), actor: "test")
        #expect(try await h.service.verify(user: "bo", code: Self.oathtoolHOTP(hotpSeed, counter: 5, digits: 8), actor: "t") == .accepted(serial: "H-\(mode.rawValue)"))

        // Audited: one register per device and the import with the file's fingerprint; the chain holds.
        let audit = try await h.service.auditEntries()
        #expect(audit.filter { $0.draft.action == "device.register" }.count == 3)
        #expect(audit.contains { $0.draft.action == "tokens.import" && $0.draft.detail.contains("sha256:\(report.fingerprint)") })
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("re-importing the same file skips the present tokens; nothing changes", arguments: StoreKind.inThisRun)
    func idempotent(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let tokens = (1...4).map { PSKCReference.Token(serial: "R\($0)", seedHex: Self.randomHex(), type: $0 % 2 == 0 ? "hotp" : "totp") }
        let file = try PSKCReference.write(tokens, mode: .psk, secret: Self.psk)
        let first = try await h.service.importSeeds(file, protection: try .preSharedKey(hex: Self.psk), actor: "t")
        #expect(first.imported == 4)
        let before = try await h.store.devices(assignment: .any)
        let again = try await h.service.importSeeds(file, protection: try .preSharedKey(hex: Self.psk), actor: "t")
        #expect(again.committed && again.imported == 0 && again.skipped == 4 && again.rejected == 0)
        #expect(again.keys.allSatisfy { $0.status == .skipped })
        #expect(try await h.store.devices(assignment: .any) == before)
        // The same serial with another seed is not "the same token": rejected.
        let changed = try PSKCReference.write([PSKCReference.Token(serial: "R1", seedHex: Self.randomHex(), type: "totp")], mode: .plain)
        let conflict = try await h.service.importSeeds(changed, actor: "t")
        #expect(!conflict.committed && conflict.keys.first?.reason?.code == "serial-exists")
        #expect(try await h.service.auditEntries().filter { $0.draft.action == "tokens.import" }.map(\.draft.result) == ["ok", "ok", "rejected"])
    }

    @Test("quarantine: all or nothing by default, --partial imports the good ones; duplicates in the file and against the inventory",
          arguments: StoreKind.inThisRun)
    func quarantine(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let shared = Self.randomHex()
        let csv = """
            serial,seed,type,digits,counter_or_period,algorithm
            Q-GOOD,\(Self.randomHex()),totp,6,30,sha1
            Q-WEAK,\(Self.randomHex(10)),totp,6,30
            Q-SHORT,\(Self.randomHex(8)),totp,6,30
            Q-ZERO,\(String(repeating: "00", count: 20)),hotp,6,0
            Q-DIGITS,\(Self.randomHex()),totp,9,30
            Q-SUITE,\(Self.randomHex()),totp,6,30,sha256
            Q-DUP,\(Self.randomHex()),totp,6,30
            Q-DUP,\(Self.randomHex()),totp,6,30
            Q-SEED1,\(shared),totp,6,30
            Q-SEED2,\(shared),hotp,6,0
            """
        let report = try await h.service.importSeeds(Array(csv.utf8), actor: "t")
        #expect(!report.committed && report.imported == 0)
        #expect(try await h.service.inventory(.any).isEmpty)
        let reasons = Dictionary(report.keys.map { ("\($0.serial ?? "")#\($0.position)", $0.reason?.code ?? $0.status.rawValue) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["Q-GOOD#2"] == "held" && reasons["Q-WEAK#3"] == "held")
        #expect(reasons["Q-SHORT#4"] == "short-seed" && reasons["Q-ZERO#5"] == "zero-seed" && reasons["Q-DIGITS#6"] == "bad-digits")
        #expect(reasons["Q-SUITE#7"] == "suite-mismatch" && reasons["Q-DUP#8"] == "duplicate-serial" && reasons["Q-DUP#9"] == "duplicate-serial")
        #expect(reasons["Q-SEED1#10"] == "duplicate-seed" && reasons["Q-SEED2#11"] == "duplicate-seed")
        #expect(report.keys.first { $0.serial == "Q-WEAK" }?.warnings.map(\.code) == ["weak-seed"])
        // No seed in the report, ever.
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains(shared))

        let partial = try await h.service.importSeeds(Array(csv.utf8), partial: true, actor: "t")
        #expect(partial.committed && partial.imported == 2 && partial.rejected == 8)
        #expect(Set(try await h.service.inventory(.unassigned).map(\.serial)) == ["Q-GOOD", "Q-WEAK"])

        // Against the inventory: a new serial with a seed already stored is rejected.
        let good = try #require(csv.split(separator: "\n").first { $0.hasPrefix("Q-GOOD") })
        let reused = "Q-OTHER," + good.split(separator: ",")[1] + ",totp,6,30\n"
        let second = try await h.service.importSeeds(Array(reused.utf8), actor: "t")
        #expect(second.keys.first?.reason?.code == "duplicate-seed" && second.keys.first?.reason?.message.contains("Q-GOOD") == true)
    }

    @Test("hostile and unreadable files: typed errors, nothing stored, audit chain intact", arguments: StoreKind.inThisRun)
    func hostile(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let laughs = Array("""
            <?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><SerialNo>&b;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>
            """.utf8)
        await #expect(throws: MFAError(.seedFile("forbidden-xml"), "")) { try await h.service.importSeeds(laughs, actor: "t") }
        let file = try PSKCReference.write([PSKCReference.Token(serial: "W1", seedHex: Self.randomHex(), type: "totp")], mode: .psk, secret: Self.psk)
        let wrong = try TransportProtection.preSharedKey(hex: "ffeeddccbbaa99887766554433221100")
        do throws(MFAError) {
            // A wrong key fails the MAC key (or, 1 time in 256, the padding passes and every MAC fails): never an import.
            let report = try await h.service.importSeeds(file, protection: wrong, actor: "t")
            #expect(!report.committed && report.keys.allSatisfy { $0.reason?.code == "bad-mac" })
        } catch {
            #expect(error.code == .seedFile("wrong-key"))
        }
        let truncated = Array(file.prefix(file.count / 2))
        await #expect(throws: MFAError(.seedFile("malformed-xml"), "")) { try await h.service.importSeeds(truncated, protection: try .preSharedKey(hex: Self.psk), actor: "t") }
        #expect(try await h.service.inventory(.any).isEmpty)
        #expect(try await h.service.verifyAuditChain().ok)
    }
}
