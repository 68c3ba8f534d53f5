import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MFA
import MFAServer
import OTP

/// What the admin commands need, the same whether they run on the store directly or on a server.
protocol Backend: Sendable {
    func createVirtual(user: String, issuer: String?) async throws -> CreateVirtualResponse
    func enable(serial: String, user: String, code1: String, code2: String) async throws
    func verify(user: String, code: String) async throws -> VerifyResponse
    func resync(serial: String, user: String, code1: String, code2: String) async throws
    func diagnose(serial: String, code: String) async throws -> Diagnosis
    func deactivate(serial: String) async throws
    func delete(serial: String) async throws
    func unlock(serial: String) async throws
    func devices(user: String) async throws -> [DeviceView]
    func inventory(_ assignment: Assignment) async throws -> [DeviceView]
    func report() async throws -> [CredentialReportRow]
    func audit(after: Int64, limit: Int) async throws -> [AuditEntryView]
    func auditVerify() async throws -> AuditVerifyResponse
}

/// Chooses local (`--db`) or remote (`--server`, `--api-key`, or MFACTL_SERVER / MFACTL_API_KEY).
struct BackendOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions

    @Option(help: "Server URL, e.g. http://127.0.0.1:8080 (or MFACTL_SERVER). Without it, the local store is used.")
    var server: String?

    @Option(name: .customLong("api-key"), help: "API key for --server (or MFACTL_API_KEY).")
    var apiKey: String?

    func backend() async throws -> any Backend {
        let env = ProcessInfo.processInfo.environment
        if let server = server ?? env["MFACTL_SERVER"], !server.isEmpty {
            guard let key = apiKey ?? env["MFACTL_API_KEY"], !key.isEmpty else {
                throw CLIError("--server needs an API key: --api-key or MFACTL_API_KEY")
            }
            guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else { throw CLIError("--server must be an http(s) URL") }
            return RemoteBackend(base: url, token: key)
        }
        return LocalBackend(service: try await store.openService())
    }
}

/// Runs the service on the store in this process (actor "cli").
struct LocalBackend: Backend {
    let service: MFAService
    let actor = "cli"

    func createVirtual(user: String, issuer: String?) async throws -> CreateVirtualResponse {
        let e = try await service.createVirtual(user: user, issuer: issuer ?? "mfa-bridge", actor: actor)
        return CreateVirtualResponse(serial: e.serial, secret: e.secretBase32, uri: e.uri)
    }
    func enable(serial: String, user: String, code1: String, code2: String) async throws {
        try await service.enable(user: user, serial: serial, code1: code1, code2: code2, actor: actor)
    }
    func verify(user: String, code: String) async throws -> VerifyResponse {
        switch try await service.verify(user: user, code: code, actor: actor) {
        case .accepted(let serial): VerifyResponse(result: "accepted", serial: serial)
        case .rejected: VerifyResponse(result: "rejected", serial: nil)
        }
    }
    func resync(serial: String, user: String, code1: String, code2: String) async throws {
        try await service.resync(user: user, serial: serial, code1: code1, code2: code2, actor: actor)
    }
    func diagnose(serial: String, code: String) async throws -> Diagnosis { try await service.diagnose(serial: serial, code: code, actor: actor) }
    func deactivate(serial: String) async throws { try await service.deactivate(serial: serial, actor: actor) }
    func delete(serial: String) async throws { try await service.delete(serial: serial, actor: actor) }
    func unlock(serial: String) async throws { try await service.unlock(serial: serial, actor: actor) }
    func devices(user: String) async throws -> [DeviceView] { try await service.list(user: user).map(DeviceView.init) }
    func inventory(_ assignment: Assignment) async throws -> [DeviceView] { try await service.inventory(assignment).map(DeviceView.init) }
    func report() async throws -> [CredentialReportRow] { try await service.credentialReport() }
    func audit(after: Int64, limit: Int) async throws -> [AuditEntryView] {
        try await service.auditEntries(after: after, limit: limit).map { e in
            AuditEntryView(sequence: e.sequence, time: e.draft.time, actor: e.draft.actor, action: e.draft.action, user: e.draft.user,
                           serial: e.draft.serial, result: e.draft.result, detail: e.draft.detail, hash: Hex.encode(e.hash))
        }
    }
    func auditVerify() async throws -> AuditVerifyResponse {
        let check = try await service.verifyAuditChain()
        return AuditVerifyResponse(ok: check.ok, entries: check.entries, brokenAt: check.brokenAt, reason: check.reason)
    }
}

/// A failure reported by the server: its status and stable error body.
struct RemoteError: Error, CustomStringConvertible {
    let status: Int
    let code: String
    let message: String
    var description: String { "\(message) (HTTP \(status), \(code))" }
}

/// Talks to a running `mfactl serve` over HTTP.
struct RemoteBackend: Backend {
    let base: URL
    let token: String

    func request<Response: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil, as: Response.Type) async throws -> Response {
        let data = try await send(method, path, body: body)
        do { return try JSONDecoder().decode(Response.self, from: data) } catch {
            throw CLIError("the server's answer to \(method) \(path) is not the expected JSON")
        }
    }

    func send(_ method: String, _ path: String, body: (any Encodable)? = nil) async throws -> Data {
        guard let url = URL(string: path, relativeTo: base) else { throw CLIError("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = try JSONEncoder().encode(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error { continuation.resume(throwing: CLIError("cannot reach \(base.absoluteString): \(error.localizedDescription)")) }
                else { continuation.resume(returning: (data ?? Data(), response!)) }
            }.resume()
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let body = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                throw RemoteError(status: status, code: body.error.code, message: body.error.message)
            }
            throw RemoteError(status: status, code: "http", message: "the server answered HTTP \(status)")
        }
        return data
    }

    func createVirtual(user: String, issuer: String?) async throws -> CreateVirtualResponse {
        try await request("POST", "/v1/devices/virtual", body: CreateVirtualRequest(user: user, issuer: issuer), as: CreateVirtualResponse.self)
    }
    func enable(serial: String, user: String, code1: String, code2: String) async throws {
        _ = try await send("POST", "/v1/devices/\(escape(serial))/enable", body: TwoCodesRequest(user: user, code1: code1, code2: code2))
    }
    func verify(user: String, code: String) async throws -> VerifyResponse {
        try await request("POST", "/v1/verify", body: VerifyRequest(user: user, code: code), as: VerifyResponse.self)
    }
    func resync(serial: String, user: String, code1: String, code2: String) async throws {
        _ = try await send("POST", "/v1/devices/\(escape(serial))/resync", body: TwoCodesRequest(user: user, code1: code1, code2: code2))
    }
    func diagnose(serial: String, code: String) async throws -> Diagnosis {
        try await request("POST", "/v1/devices/\(escape(serial))/diagnose", body: CodeRequest(code: code), as: DiagnosisResponse.self).diagnosis
    }
    func deactivate(serial: String) async throws { _ = try await send("POST", "/v1/devices/\(escape(serial))/deactivate") }
    func delete(serial: String) async throws { _ = try await send("DELETE", "/v1/devices/\(escape(serial))") }
    func unlock(serial: String) async throws { _ = try await send("POST", "/v1/devices/\(escape(serial))/unlock") }
    func devices(user: String) async throws -> [DeviceView] {
        try await request("GET", "/v1/users/\(escape(user))/devices", as: DeviceList.self).devices
    }
    func inventory(_ assignment: Assignment) async throws -> [DeviceView] {
        try await request("GET", "/v1/devices?assignment=\(assignment.rawValue)", as: DeviceList.self).devices
    }
    func report() async throws -> [CredentialReportRow] { try await request("GET", "/v1/reports/credentials", as: ReportResponse.self).rows }
    func audit(after: Int64, limit: Int) async throws -> [AuditEntryView] {
        try await request("GET", "/v1/audit?after=\(after)&limit=\(limit)", as: AuditListResponse.self).entries
    }
    func auditVerify() async throws -> AuditVerifyResponse { try await request("GET", "/v1/audit/verify", as: AuditVerifyResponse.self) }

    func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? segment
    }
}
