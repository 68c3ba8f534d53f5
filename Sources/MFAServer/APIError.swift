import Foundation
import Hummingbird
import MFA

/// Every error the API returns: a status and the stable body `{"error": {"code": "...", "message": "..."}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static let unauthenticated = APIError(.unauthorized, code: "unauthenticated", message: "missing or invalid API key (Authorization: Bearer mfa_…)")
    public static func forbidden(_ scope: Scope) -> APIError {
        APIError(.forbidden, code: "forbidden", message: "this API key lacks the '\(scope.rawValue)' scope")
    }

    /// The HTTP form of a service error.
    public init(_ error: MFAError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .noSuchDevice, .noSuchUser: status = .notFound
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
        self.init(status, code: error.code.rawValue, message: error.message)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: Self.contentType], body: .init(byteBuffer: json))
    }

    static let contentType = "application/json"

    /// `{"error": {"code": …, "message": …}}`
    var json: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"error":{"code":"#)
        JSONText.write(code, to: &buffer)
        buffer.writeStaticString(#","message":"#)
        JSONText.write(message, to: &buffer)
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
}
