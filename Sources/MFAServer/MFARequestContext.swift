import Hummingbird
import MFA

/// Request context: the authenticated API key, if any.
public struct MFARequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var apiKey: APIKeyRecord? {
        didSet { notes.keyID = apiKey?.id }
    }
    /// The peer's IP address, for the access log.
    public let remoteAddress: String?
    /// Shared with the outer middlewares (the access log learns the key that authenticated).
    public let notes = RequestNotes()

    public init(source: Source) {
        coreContext = .init(source: source)
        apiKey = nil
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Request bodies are small JSON documents.
    public var maxUploadSize: Int { 64 * 1024 }

    /// Throws 401 without a key, 403 when the key lacks `scope`.
    public func require(_ scope: Scope) throws -> APIKeyRecord {
        guard let apiKey else { throw APIError.unauthenticated }
        guard apiKey.allows(scope) else { throw APIError.forbidden(scope) }
        return apiKey
    }
}

/// Resolves `Authorization: Bearer …` to an API key (never logs the token).
struct AuthenticationMiddleware: RouterMiddleware {
    let service: MFAService
    let keys: APIKeyCache

    func handle(_ request: Request, context: MFARequestContext, next: (Request, MFARequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else { throw APIError.unauthenticated }
            do {
                guard let key = try await keys.authenticate(String(header.dropFirst(7)), service: service) else { throw APIError.unauthenticated }
                context.apiKey = key
            } catch let error as MFAError { throw APIError(error) }
        }
        return try await next(request, context)
    }
}
