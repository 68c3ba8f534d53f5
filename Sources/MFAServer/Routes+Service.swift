import Hummingbird
import MFA

/// `/healthz` (the store answers) and `/metrics` (Prometheus text, `metrics` scope).
struct ServiceRoutes: RouteGroup {
    let service: MFAService
    let metrics: ServerMetrics

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .get, "/healthz") { [service] _, _ -> StatusResponse in
            _ = try await call { try await service.store.auditCheckpoint() }
            return StatusResponse(status: "ok")
        }
        table.add(router, .get, "/metrics") { [metrics] _, context -> Response in
            _ = try context.require(.metrics)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }
}

/// `POST /v1/verify`, the sign-in; ``VerifyFastPath`` answers most of them before the router, the same way.
struct VerifyRoutes: RouteGroup {
    let endpoint: VerifyEndpoint

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .post, "/v1/verify") { [endpoint] request, context -> VerifyResponse in
            let key = try context.require(.verifier)
            let body = try await decode(VerifyRequest.self, request, context)
            return try await endpoint.run(body, idempotencyKey: VerifyEndpoint.idempotencyKey(request.headers), key: key)
        }
    }
}

/// `GET /v1/reports/credentials`: every device's row, as JSON or CSV.
struct ReportRoutes: RouteGroup {
    let service: MFAService

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .get, "/v1/reports/credentials") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            let format = request.uri.queryParameters.get("format") ?? "json"
            guard format == "json" || format == "csv" else {
                throw APIError(.badRequest, code: "invalid-input", message: "format must be json or csv")
            }
            let rows = try await call { try await adapter.report() }
            if format == "csv" {
                let csv = ([CredentialReportRow.csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
            }
            return try ReportResponse(rows: rows).response(from: request, context: context)
        }
    }
}
