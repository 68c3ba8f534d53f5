import Foundation
import Synchronization
import MFA
import OTP
import Testing

/// The attack of issue 16 on both stores: two users whose names are canonically equivalent (one of
/// them a row written before the NFC rule, or by another tool) must stay two users in every cache and
/// batch of the sign-in path, whatever order and concurrency their sign-ins come in.
@Suite("Identities on the stores: canonically equivalent owners are never merged")
struct IdentityStoreTests {
    /// An active TOTP device for `owner`, written straight to the store (the service refuses non-NFC
    /// names, a store holds whatever bytes it was given).
    static func storedDevice(_ h: Harness, owner: String, serial: String) async throws -> OTPSecret {
        let secret = try OTPSecret(bytes: LibCrypto.randomBytes(20))
        var device = DeviceRecord(
            serial: serial, kind: .virtualTOTP, owner: owner, state: .active, algorithm: .sha1, digits: 6, period: 30, counter: 0,
            sealedSecret: try h.vault.seal(secret, serial: serial), createdAt: h.clock.now - 600)
        device.enabledAt = h.clock.now - 600
        try await h.store.insert(device, maximumPerOwner: 8, audit: AuditDraft(time: h.clock.now, actor: "test", action: "device.create", user: owner, serial: serial, result: "ok"))
        return secret
    }

    /// A sign-in on the store that decides nothing but records the owners of the devices it was shown.
    static func owners(seenBy h: Harness, signingIn owner: String) async throws -> [[UInt8]] {
        let seen = SeenOwners()
        _ = try await h.store.signIn(owner: owner) { devices throws(MFAError) in
            seen.record(devices.map { Array(($0.owner ?? "").utf8) })
            return .reject(audit: AuditDraft(time: 0, actor: "test", action: "verify", user: owner, result: "rejected", detail: "probe"))
        }
        return seen.value
    }

    @Test("the reproduction: after the NFD account's sign-in, its code does not sign in the NFC account", arguments: StoreKind.inThisRun)
    func reproduction(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let nfc = "jos\u{E9}", nfd = "jose\u{301}"
        let (nfcSerial, nfcSecret) = try await h.enrolledVirtual(nfc)
        let nfdSecret = try await Self.storedDevice(h, owner: nfd, serial: "LEGACY-NFD")
        // The NFD account signs in first (its devices now in the writer's cache or the batch's map).
        #expect(try await Self.owners(seenBy: h, signingIn: nfd) == [Array(nfd.utf8)])
        h.clock.advance(30)
        // Its code is no code of the NFC account.
        #expect(try await h.service.verify(user: nfc, code: h.totp(nfdSecret), actor: "test") == .rejected)
        #expect(try await h.service.verify(user: nfc, code: h.totp(nfcSecret), actor: "test") == .accepted(serial: nfcSerial))
        // And the service refuses to address the NFD name at all.
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.verify(user: nfd, code: h.totp(nfdSecret), actor: "test") }
        await #expect(throws: MFAError(.invalidInput, "")) { try await h.service.createVirtual(user: nfd, actor: "test") }
        let legacy = try #require(try await h.store.device(serial: "LEGACY-NFD"))
        #expect(legacy.watermark == -1 && legacy.failureCount == 0, "the NFD device was touched by the NFC account's sign-ins")
    }

    @Test("every equivalence class: each owner's sign-in sees only its own devices, in either order", arguments: StoreKind.inThisRun)
    func everyClass(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        for (n, (nfc, other, what)) in EquivalentNames.pairs.enumerated() {
            _ = try await Self.storedDevice(h, owner: nfc, serial: "C\(n)-NFC")
            _ = try await Self.storedDevice(h, owner: other, serial: "C\(n)-OTHER")
            for name in [other, nfc, other, nfc] {
                #expect(try await Self.owners(seenBy: h, signingIn: name) == [Array(name.utf8)], "\(kind) \(what): \(name.unicodeScalars.map { String($0.value, radix: 16) })")
            }
            #expect(try await h.store.devices(owner: nfc).map(\.serial) == ["C\(n)-NFC"])
            #expect(try await h.store.devices(owner: other).map(\.serial) == ["C\(n)-OTHER"])
        }
    }

    @Test("concurrent sign-ins of both spellings (one batch): never each other's devices", arguments: StoreKind.inThisRun)
    func concurrent(kind: StoreKind) async throws {
        let h = try await Harness.make(kind)
        let nfc = "jos\u{E9}", nfd = "jose\u{301}"
        _ = try await Self.storedDevice(h, owner: nfc, serial: "PAIR-NFC")
        _ = try await Self.storedDevice(h, owner: nfd, serial: "PAIR-NFD")
        for _ in 0..<40 {
            async let a = Self.owners(seenBy: h, signingIn: nfc)
            async let b = Self.owners(seenBy: h, signingIn: nfd)
            async let c = Self.owners(seenBy: h, signingIn: nfd)
            async let d = Self.owners(seenBy: h, signingIn: nfc)
            let (sa, sb, sc, sd) = try await (a, b, c, d)
            #expect(sa == [Array(nfc.utf8)] && sd == [Array(nfc.utf8)], "\(kind)")
            #expect(sb == [Array(nfd.utf8)] && sc == [Array(nfd.utf8)], "\(kind)")
        }
    }
}

/// What a sign-in's decision closure was shown (it runs on the store's writer or batch).
final class SeenOwners: Sendable {
    private let lock = Mutex<[[UInt8]]>([])
    func record(_ owners: [[UInt8]]) { lock.withLock { $0 = owners } }
    var value: [[UInt8]] { lock.withLock { $0 } }
}
