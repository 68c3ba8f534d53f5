import Hummingbird
import HummingbirdCore
import MFA

/// `GET /v1/audit` (a page of the log, filtered) and `GET /v1/audit/verify` (the chain's verdict and head).
struct AuditRoutes: RouteGroup {
    let service: MFAService

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .get, "/v1/audit") { [service] request, context -> AuditListResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            let query = try auditQuery(request.uri.queryParameters, now: service.clock())
            return AuditListResponse(entries: try await call { try await adapter.audit(query) })
        }

        table.add(router, .get, "/v1/audit/verify") { [service] _, context -> AuditVerifyResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            return try await call { try await adapter.auditVerify() }
        }
    }
}

/// The query string of `GET /v1/audit` as an ``AuditQuery``; each bad parameter is named.
func auditQuery(_ parameters: FlatDictionary<Substring, Substring>, now: Int64) throws -> AuditQuery {
    func invalid(_ message: String) -> APIError { APIError(.badRequest, code: "invalid-input", message: message) }
    var query = AuditQuery()
    if let text = parameters.get("after") {
        guard let after = Int64(text), after >= 0 else { throw invalid("after must be a sequence number (an integer ≥ 0)") }
        query.after = after
    }
    if let text = parameters.get("before") {
        guard let before = Int64(text), before >= 1 else { throw invalid("before must be a sequence number (an integer ≥ 1)") }
        query.before = before
    }
    if let text = parameters.get("since") {
        guard let since = SecondsText.parseSince(text, now: now) else {
            throw invalid("since must be an ISO 8601 time (2026-12-03T18:30:00Z or 2026-12-03), Unix seconds, or a length of time back (24h, 7d)")
        }
        query.since = since
    }
    let filters: [(String, WritableKeyPath<AuditQuery, String?>)] = [("user", \.user), ("serial", \.serial), ("action", \.action)]
    for (name, path) in filters {
        guard let value = parameters.get(name) else { continue }
        guard !value.isEmpty, value.utf8.count <= 256 else { throw invalid("\(name) must be 1 to 256 bytes") }
        query[keyPath: path] = value
    }
    if let text = parameters.get("order") {
        guard let order = AuditQuery.Order(rawValue: text) else { throw invalid("order must be newest or oldest") }
        query.order = order
    }
    if let text = parameters.get("limit") {
        guard let limit = Int(text), (1...1_000).contains(limit) else { throw invalid("limit must be an integer from 1 to 1000") }
        query.limit = limit
    }
    return query
}
