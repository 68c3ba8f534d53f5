import Foundation
import Hummingbird
import MFA

/// An API key as listed: never its secret or the secret's hash.
public struct APIKeyView: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var scopes: [String]
    public var state: String
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var lastUsedAt: Int64?
    public var revokedAt: Int64?

    public init(_ record: APIKeyRecord, now: Int64) {
        id = record.id
        name = record.name
        scopes = record.scopes.map(\.rawValue)
        state = record.state(at: now)
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        lastUsedAt = record.lastUsedAt
        revokedAt = record.revokedAt
    }
}

public struct APIKeyList: ResponseCodable, Sendable {
    public var keys: [APIKeyView]
    public init(keys: [APIKeyView]) { self.keys = keys }
}

/// `POST /v1/api-keys`: a name unique among active keys, one or more scopes, an optional lifetime.
public struct CreateAPIKeyRequest: Codable, Sendable {
    public var name: String
    public var scopes: [String]
    /// Seconds from now until the key expires (1 s to 10 years); absent: never.
    public var expiresInSeconds: Int64?

    public init(name: String, scopes: [String], expiresInSeconds: Int64?) {
        self.name = name
        self.scopes = scopes
        self.expiresInSeconds = expiresInSeconds
    }
}

/// The new key, with its token: shown once, never stored.
public struct CreateAPIKeyResponse: ResponseCodable, Sendable {
    public var key: APIKeyView
    public var token: String
    public init(key: APIKeyView, token: String) {
        self.key = key
        self.token = token
    }
}

/// `/v1/api-keys`: admins list, create and revoke keys remotely, as `mfactl api-key` does locally.
struct APIKeyRoutes: RouteGroup {
    let service: MFAService

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .get, "/v1/api-keys") { [service] _, context -> APIKeyList in
            let (_, adapter) = try context.acting(.admin, on: service)
            return APIKeyList(keys: try await call { try await adapter.apiKeys() })
        }

        table.add(router, .post, "/v1/api-keys") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            let body = try await decode(CreateAPIKeyRequest.self, request, context)
            let scopes = try body.scopes.map { name -> Scope in
                guard let scope = Scope(rawValue: name) else {
                    throw APIError(.badRequest, code: "invalid-input", message: "scopes: unknown scope '\(name)' (admin, technician, verifier, metrics)")
                }
                return scope
            }
            let created = try await call { try await adapter.createAPIKey(name: body.name, scopes: scopes, lifetime: body.expiresInSeconds) }
            return try created.response(from: request, context: context).withStatus(.created)
        }

        table.add(router, .delete, "/v1/api-keys/:id") { [service] request, context -> StatusResponse in
            let (key, adapter) = try context.acting(.admin, on: service)
            let id = try context.parameters.decoded("id")
            // A key may not revoke itself (refused and audited by the service); revoke it with another
            // admin key, or locally with `mfactl api-key revoke`.
            let revokedNow = try await call { try await adapter.revokeAPIKey(id: id, requestedBy: key.id) }
            return StatusResponse(status: revokedNow ? "revoked" : "already-revoked")
        }
    }
}
