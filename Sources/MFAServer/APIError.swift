import Foundation
import Hummingbird
import Logging
import MFA
import OTP

/// Every error the API returns: a status and the stable body
/// `{"error": {"code": "…", "message": "…", "requestId": "…"}}`.
///
/// The message says what the caller can act on. What is internal — SQL, PostgreSQL's descriptions,
/// host names and ports, file paths, vault key ids — never reaches a caller: errors of the store, the
/// vault or unknown kinds get a fixed message, and the detail goes to the server's log under the
/// same request id, where an operator finds it.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Random, per error: quoted by a caller, found in the server's log.
    public let requestId: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
        self.requestId = Hex.encode(LibCrypto.randomBytes(8))
    }

    static let logger = Logger(label: "mfa-bridge.api")

    public static var unauthenticated: APIError { APIError(.unauthorized, code: "unauthenticated", message: "missing or invalid API key (Authorization: Bearer mfa_…)") }
    public static func forbidden(_ scope: Scope) -> APIError {
        APIError(.forbidden, code: "forbidden", message: "this API key lacks the '\(scope.rawValue)' scope")
    }

    /// The HTTP form of a service error.
    public init(_ error: MFAError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .noSuchDevice, .noSuchUser, .noSuchKey: status = .notFound
        case .invalidCode, .notConsecutive: status = .unprocessableContent
        case .limitExceeded, .alreadyExists, .conflict: status = .conflict
        case .locked: status = HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
        case .invalidInput: status = .badRequest
        case .rateLimited: status = .tooManyRequests
        case .storeUnavailable: status = .serviceUnavailable
        case let code where code == .seedFile("too-large"): status = .contentTooLarge
        case let code where code.isSeedFile: status = .badRequest
        default: status = .internalServerError
        }
        let internalDetail = status.code >= 500
        let message = switch error.code {
        case _ where !internalDetail: error.message
        case .storeUnavailable: "the store is unavailable; try again (details in the server log)"
        case .vault: "a sealed secret could not be opened (details in the server log)"
        default: "internal error (details in the server log)"
        }
        self.init(status, code: error.code.rawValue, message: message)
        if internalDetail {
            Self.logger.error("request failed", metadata: ["requestId": "\(requestId)", "code": "\(error.code.rawValue)", "detail": "\(error.message)"])
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: Self.contentType]
        // RFC 6750 §3: a 401 names the scheme the caller must use.
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: json))
    }

    static let contentType = "application/json"

    /// `{"error": {"code": …, "message": …, "requestId": …}}`
    var json: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"error":{"code":"#)
        JSONText.write(code, to: &buffer)
        buffer.writeStaticString(#","message":"#)
        JSONText.write(message, to: &buffer)
        buffer.writeStaticString(#","requestId":"#)
        JSONText.write(requestId, to: &buffer)
        buffer.writeStaticString("}}")
        return buffer
    }
}

/// `{"error": {"code": …, "message": …}}`
public struct ErrorBody: Codable, Sendable {
    public let error: ErrorDetail
}

public struct ErrorDetail: Codable, Sendable {
    public let code: String
    public let message: String
    /// Present in every answer of this server; optional so older answers still decode.
    public let requestId: String?
}
