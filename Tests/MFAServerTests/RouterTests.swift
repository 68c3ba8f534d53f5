import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MFA
@testable import MFAServer
import MFAStoreSQLite
import OTP
import Testing

/// The router in process through HummingbirdTesting (no socket, no fast path): the API's shapes for
/// errors, authentication and a verify, beside the end-to-end suites that start the binary.
@Suite("Router in process (HummingbirdTesting)")
struct RouterTests {
    /// An application on a fresh SQLite store, and an admin key's token.
    static func application() async throws -> (app: some ApplicationProtocol, token: String, cleanup: @Sendable () -> Void) {
        let (service, cleanup) = try await service()
        let (_, token) = try await service.createAPIKey(name: "admin", scopes: [.admin], actor: "t")
        let app = try buildApplication(service: service, configuration: ServerConfiguration(host: "127.0.0.1", port: 0))
        return (app, token, cleanup)
    }

    /// A service on a fresh SQLite store, and what removes the store's files.
    static func service() async throws -> (MFAService, @Sendable () -> Void) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-router-\(UUID().uuidString).sqlite").path
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        let store = try SQLiteMFAStore(path: path, chain: AuditChain(vault: vault))
        try await store.migrate()
        let service = MFAService(store: store, vault: vault, clock: { Int64(Date().timeIntervalSince1970) })
        return (service, { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } })
    }

    @Test("unknown routes, missing keys and bad bodies answer the documented error shape; 401 names the Bearer scheme")
    func errors() async throws {
        let (app, token, cleanup) = try await Self.application()
        defer { cleanup() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains(#""code":"no-such-route""#), "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/verify", method: .post, body: ByteBuffer(string: #"{"user":"a","code":"123456"}"#)) { response in
                #expect(response.status == .unauthorized && response.headers[.wwwAuthenticate] == "Bearer")
                #expect(String(buffer: response.body).contains(#""code":"unauthenticated""#))
            }
            try await client.execute(uri: "/v1/verify", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"user":"a"}"#)) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .badRequest && body.contains(#""code":"invalid-body""#) && body.contains("code"), "\(body)")
            }
        }
    }

    @Test("a verify for an unknown user is rejected with 200 and the uniform answer; /healthz answers without a key")
    func verifyAndHealth() async throws {
        let (app, token, cleanup) = try await Self.application()
        defer { cleanup() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/verify", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"user":"nobody","code":"123456"}"#)) { response in
                #expect(response.status == .ok && String(buffer: response.body) == #"{"result":"rejected"}"#, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
