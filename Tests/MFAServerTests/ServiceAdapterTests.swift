import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MFA
@testable import MFAServer
import MFAStoreSQLite
import OTP
import SeedImport
import Testing

/// The one mapping between the service and its front ends: the router answers with exactly the
/// models the adapter returns (what `mfactl` prints locally), and the two spellings of an import's
/// protection are read one way.
@Suite("Service adapter")
struct ServiceAdapterTests {
    @Test("a seed file's protection: both psk and password are refused, a bad psk is a seed-file error, neither is none")
    func protection() throws {
        #expect(throws: MFAError.self) { try ServiceAdapter.protection(psk: "00112233445566778899aabbccddeeff", password: "pw") }
        do {
            _ = try ServiceAdapter.protection(psk: "00112233445566778899aabbccddeeff", password: "pw")
        } catch { #expect(error.code == .invalidInput && error.message == "give psk or password, not both") }
        do {
            _ = try ServiceAdapter.protection(psk: "zz", password: nil)
            Issue.record("a psk that is not hex was accepted")
        } catch { #expect(error.code.isSeedFile, "\(error.code.rawValue)") }
        guard case .none = try ServiceAdapter.protection(psk: nil, password: nil) else { Issue.record("no protection given, some read"); return }
        guard case .password("pw") = try ServiceAdapter.protection(psk: nil, password: "pw") else { Issue.record("the password was not kept"); return }
        guard case .preSharedKey(let key) = try ServiceAdapter.protection(psk: "00112233445566778899aabbccddeeff", password: nil) else {
            Issue.record("the psk was not read"); return
        }
        #expect(key == Array(0..<16).map { UInt8($0 * 0x11) })
    }

    @Test("a virtual device's answer carries its QR code as a PNG, a card credential's none, locally as over HTTP")
    func createVirtualQR() async throws {
        let (service, cleanup) = try await RouterTests.service()
        defer { cleanup() }
        let adapter = ServiceAdapter(service, actor: "cli")
        let virtual = try await adapter.createVirtual(user: "ana", issuer: nil, digits: 6)
        let png = try #require(virtual.qrPNG.flatMap { Data(base64Encoded: $0) })
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(virtual.uri.hasPrefix("otpauth://totp/mfa-bridge:ana?"))
        let card = try await adapter.createVirtual(user: "ana", issuer: nil, kind: .oathCard, digits: 6)
        #expect(card.qrPNG == nil)
    }

    @Test("GET /v1/users/:user/devices and /v1/api-keys answer exactly what the adapter returns to a local command")
    func sameModels() async throws {
        let (service, cleanup) = try await RouterTests.service()
        defer { cleanup() }
        let (_, token) = try await service.createAPIKey(name: "admin", scopes: [.admin], actor: "t")
        let local = ServiceAdapter(service, actor: "cli")
        let created = try await local.createVirtual(user: "bea", issuer: nil, digits: 8)
        try await local.register(RegisterRequest(serial: "HW-1", kind: "hardware-totp", secretHex: "3132333435363738393031323334353637383930", user: "bea"))
        let localDevices = try await local.devices(user: "bea")
        #expect(localDevices.map(\.serial).sorted() == ["HW-1", created.serial].sorted())
        #expect(localDevices.allSatisfy { $0.expiresAt != nil }, "pending devices show their expiry")
        let localKeys = try await local.apiKeys()
        let app = try buildApplication(service: service, configuration: ServerConfiguration(host: "127.0.0.1", port: 0))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/users/bea/devices", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let remote = try JSONDecoder().decode(DeviceList.self, from: Data(buffer: response.body))
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                let (remoteJSON, localJSON) = (String(decoding: try encoder.encode(remote.devices), as: UTF8.self), String(decoding: try encoder.encode(localDevices), as: UTF8.self))
                #expect(remoteJSON == localJSON)
            }
            try await client.execute(uri: "/v1/api-keys", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let remote = try JSONDecoder().decode(APIKeyList.self, from: Data(buffer: response.body))
                #expect(remote.keys.map(\.id) == localKeys.map(\.id) && remote.keys.map(\.scopes) == localKeys.map(\.scopes))
            }
        }
    }

    @Test("a path's methods come from its most literal pattern, whatever order the groups registered them in")
    func mostLiteralPattern() {
        let router = Router(context: MFARequestContext.self)
        let table = RouteTable()
        table.add(router, .delete, "/v1/devices/:serial") { _, _ in "" }
        table.add(router, .post, "/v1/devices/virtual") { _, _ in "" }
        #expect(table.methods(for: "/v1/devices/virtual") == [.post])
        #expect(table.methods(for: "/v1/devices/V123") == [.delete])
        #expect(table.methods(for: "/v1/devices") == nil)
    }
}
