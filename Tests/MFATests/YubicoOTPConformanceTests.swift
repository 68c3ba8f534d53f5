import Foundation
import MFA
import OTP
import Testing

/// Yubico OTP and HID-slot devices in the service, on both stores (part of the conformance suite).
///
/// The OTPs are the published Yubico OTP test vectors (developers.yubico.com,
/// OTP/Specifications/Test_vectors; the same values as Tests/OTPTests/YubicoOTPVectorTests.swift):
/// key 000102…0f, private id 010203040506, counters (1, 1), (1, 2) and (0x0fff, 1).
enum YubicoVectors {
    static let keyHex = "000102030405060708090a0b0c0d0e0f"
    static let privateIDHex = "010203040506"
    /// (usage 1, session 1)
    static let first = "dvgtiblfkbgturecfllberrvkinnctnn"
    /// (usage 1, session 2)
    static let second = "rnibcnfhdninbrdebccrndfhjgnhftee"
    /// (usage 0x0fff, session 1)
    static let later = "iikkijbdknrrdhfdrjltvgrbkkjblcbh"
    /// `second` with its last character changed: fails the CRC.
    static let corrupted = "rnibcnfhdninbrdebccrndfhjgnhftef"
    static let publicID = "ccccccbchvth"

    static func bytes(_ hex: String) -> [UInt8] { (try? Hex.decode(hex)) ?? [] }
}

extension StoreConformanceTests {
    @Test("Yubico OTP (published vectors): enable with one OTP, accept once, replays and lower counters rejected without failures", arguments: StoreKind.inThisRun)
    func yubicoOTPVectors(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let v = YubicoVectors.self, id = v.publicID
        try await h.service.register(serial: id, kind: .yubicoOTP, secret: try OTPSecret(hex: v.keyHex + v.privateIDHex), owner: "yuki", actor: "test")
        await #expect(throws: MFAError(.invalidCode, "")) { try await h.service.enable(user: "yuki", serial: id, otp: id + v.corrupted, actor: "test") }
        await #expect(throws: MFAError(.invalidCode, "")) { try await h.service.enable(user: "yuki", serial: id, otp: "ccccccbchvtj" + v.first, actor: "test") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.enable(user: "yuki", serial: id, code1: "123456", code2: "654321", actor: "test") }
        #expect(try await h.store.device(serial: id)?.state == .pending)
        try await h.service.enable(user: "yuki", serial: id, otp: id + v.first, actor: "test")
        let enabled = try #require(try await h.store.device(serial: id))
        #expect(enabled.state == .active && enabled.owner == "yuki" && enabled.watermark == 1 << 8 | 1)
        // The enabling OTP is used up; the next one signs in once.
        #expect(try await h.service.verify(user: "yuki", code: id + v.first, actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "yuki", code: id + v.second, actor: "t") == .accepted(serial: id))
        #expect(try await h.service.verify(user: "yuki", code: id + v.second, actor: "t") == .rejected)
        h.clock.advance(5)
        #expect(try await h.service.verify(serial: id, code: id + v.later, actor: "t") == .accepted(serial: id))
        // (1, 2) is below (0x0fff, 1): rejected, though it decrypts.
        #expect(try await h.service.verify(user: "yuki", code: id + v.second, actor: "t") == .rejected)
        let device = try #require(try await h.store.device(serial: id))
        #expect(device.watermark == 0x0fff << 8 | 1 && device.failureCount == 0 && device.lastUsedAt == h.clock.now)
        let replays = try await h.service.auditEntries().filter { $0.draft.detail == "replay" && $0.draft.serial == id }
        #expect(replays.count == 3)
        let diagnosis = try await h.service.diagnose(serial: id, code: id + v.second, actor: "t")
        #expect(diagnosis.found && diagnosis.alreadyUsed && !diagnosis.withinSignInWindow)
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.resync(user: "yuki", serial: id, code1: id + v.first, code2: id + v.second, actor: "t")
        }
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("Yubico OTP: wrong private id, bad CRC, and another public id are rejected alike and count as failures; malformed codes are rejected and not counted", arguments: StoreKind.inThisRun)
    func yubicoOTPRejections(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let v = YubicoVectors.self, id = v.publicID
        // Same AES key as the vectors, another private id: the vectors decrypt and pass their CRC,
        // but carry the wrong private id.
        let privateID: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x07]
        try await h.service.register(serial: id, kind: .yubicoOTP, secret: try OTPSecret(bytes: v.bytes(v.keyHex) + privateID), owner: "zed", actor: "test")
        func otp(_ usage: UInt16, _ session: UInt8, publicID: String = id) throws -> String {
            try YubicoOTP.encode(
                publicID: try Modhex.decode(publicID), privateID: privateID, usageCounter: usage, sessionCounter: session, key: v.bytes(v.keyHex))
        }
        try await h.service.enable(user: "zed", serial: id, otp: try otp(1, 1), actor: "test")
        let rejected = [id + v.second, id + v.corrupted, try otp(1, 3, publicID: "ccccccbchvtj")]
        for (index, code) in rejected.enumerated() {
            #expect(try await h.service.verify(user: "zed", code: code, actor: "t") == .rejected, "\(code)")
            #expect(try await h.store.device(serial: id)?.failureCount == index + 1, "\(code)")
        }
        // Not the form of a Yubico OTP (digits, too short, a character outside modhex): a slip, not counted.
        let malformed = ["123456", id, id + v.second + "x"]
        for code in malformed {
            #expect(try await h.service.verify(user: "zed", code: code, actor: "t") == .rejected, "\(code)")
            #expect(try await h.store.device(serial: id)?.failureCount == rejected.count, "\(code)")
        }
        let reasons = try await h.service.auditEntries().filter { $0.draft.action == "verify" }.map(\.draft.detail)
        #expect(reasons.prefix(rejected.count).allSatisfy { $0 == "invalid-code" } && reasons.dropFirst(rejected.count).allSatisfy { $0.hasPrefix("malformed") }
            && reasons.count == rejected.count + malformed.count, "\(reasons)")
        #expect(try await h.service.verify(user: "zed", code: try otp(1, 2), actor: "t") == .accepted(serial: id))
        #expect(try await h.store.device(serial: id)?.failureCount == 0)
        // Nothing of the key or the private id is in the audit log.
        let audit = try await h.service.auditEntries().map { "\($0.draft.detail) \($0.draft.serial ?? "")" }.joined()
        #expect(!audit.contains(v.keyHex) && !audit.contains("010203040507"))
    }

    @Test("Yubico OTP: generated credentials, shown once; concurrent verifies of one OTP from two store instances accept exactly once", arguments: StoreKind.inThisRun)
    func yubicoOTPGeneratedAndConcurrent(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let e = try await h.service.createYubicoOTP(user: "una", actor: "admin")
        #expect(e.serial == e.publicID && e.publicID.count == 12 && e.publicID.hasPrefix("vv") && Modhex.isModhex(e.publicID))
        #expect(e.aesKeyHex.count == 32 && e.privateIDHex.count == 12)
        let listed = try #require(try await h.service.list(user: "una").first)
        #expect(listed.kind == .yubicoOTP && listed.state == .pending && listed.sealedSecret.count > 22)
        #expect(!listed.sealedSecret.contains(subsequence: YubicoVectors.bytes(e.aesKeyHex)))
        func otp(_ usage: UInt16, _ session: UInt8) throws -> String {
            try YubicoOTP.encode(
                publicID: try Modhex.decode(e.publicID), privateID: YubicoVectors.bytes(e.privateIDHex), usageCounter: usage, sessionCounter: session,
                timestamp: 0x1234, random: 0x5678, key: YubicoVectors.bytes(e.aesKeyHex))
        }
        await #expect(throws: MFAError(.conflict, "")) { try await h.service.enable(user: "other", serial: e.serial, otp: try otp(1, 1), actor: "t") }
        try await h.service.enable(user: "una", serial: e.serial, otp: try otp(1, 1), actor: "admin")
        let code = try otp(2, 1)
        let other = try await h.otherProcess()
        let results = try await withThrowingTaskGroup(of: VerifyResult.self) { group in
            for i in 0..<100 {
                let service = i % 2 == 0 ? h.service : other
                group.addTask { try await service.verify(user: "una", code: code, actor: "load") }
            }
            return try await group.reduce(into: [VerifyResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == .accepted(serial: e.serial) }.count == 1)
        #expect(results.filter { $0 == .rejected }.count == 99)
        let device = try #require(try await h.store.device(serial: e.serial))
        #expect(device.watermark == 2 << 8 | 1 && device.failureCount == 0)
        let accepted = try await h.service.auditEntries(after: 0, limit: 1_000).filter { $0.draft.result == "accepted" }
        #expect(accepted.count == 1)
        #expect(try await h.service.verifyAuditChain().ok)
    }

    @Test("HID slots are HOTP: generated seed with 8 digits, enable with two consecutive counters, look-ahead, replay", arguments: StoreKind.inThisRun)
    func hidSlotHOTP(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let e = try await h.service.createVirtual(user: "hana", kind: .hidSlot, digits: 8, actor: "admin")
        #expect(e.serial.hasPrefix("H") && e.uri.hasPrefix("otpauth://hotp/"))
        let hotp = try HOTP(secret: try OTPSecret(base32: e.secretBase32), algorithm: .sha1, digits: 8)
        func code(_ counter: UInt64) throws -> String { hotp.code(counter: counter).description }
        try await h.service.enable(user: "hana", serial: e.serial, code1: try code(0), code2: try code(1), actor: "admin")
        let device = try #require(try await h.store.device(serial: e.serial))
        #expect(device.digits == 8 && device.counter == 2 && device.watermark == 1 && device.period == 0)
        #expect(try await h.service.verify(user: "hana", code: try code(1), actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "hana", code: try code(4), actor: "t") == .accepted(serial: e.serial))
        #expect(try await h.service.verify(user: "hana", code: try code(4), actor: "t") == .rejected)
        #expect(try await h.service.verify(user: "hana", code: try code(3), actor: "t") == .rejected)
        #expect(try await h.store.device(serial: e.serial)?.failureCount == 0)
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createVirtual(user: "hana", kind: .yubicoOTP, actor: "admin") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.enable(user: "hana", serial: e.serial, otp: "cccc", actor: "admin") }
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: "not-modhex-1", kind: .yubicoOTP, secret: try OTPSecret(hex: YubicoVectors.keyHex + YubicoVectors.privateIDHex), actor: "t")
        }
        await #expect(throws: MFAError(.invalidInput, "")) {
            try await h.service.register(serial: YubicoVectors.publicID, kind: .yubicoOTP, secret: try OTPSecret(hex: YubicoVectors.keyHex), actor: "t")
        }
    }
}
