import Foundation
import Hummingbird
import HummingbirdCore
import MFA
import SeedImport

/// The largest `POST /v1/tokens/import` body (a 512 MB seed file in Base64, plus the JSON around it).
let maximumImportBodyBytes = 700 * 1024 * 1024

/// `POST /v1/tokens/import`: one JSON report at the end (200 when the good keys were stored, 422 with
/// the same report when nothing was) or, for a client that accepts `application/x-ndjson`, a line per
/// progress step while the import runs and the report as the last line, so an admin importing
/// 100 000 keys over the network sees it move (`mfactl tokens import --server` asks for this).
struct ImportRoutes: RouteGroup {
    let service: MFAService

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .post, "/v1/tokens/import") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            return try await Self.answer(request, context, ImportJob(request), adapter)
        }
    }

    private static func answer(_ request: Request, _ context: MFARequestContext, _ job: ImportJob, _ adapter: ServiceAdapter) async throws -> Response {
        guard request.headers[.accept]?.contains(ImportStreamLine.contentType) == true else {
            let report = try await call { try await job.run(on: adapter, progress: nil) }
            return try report.response(from: request, context: context).withStatus(report.committed ? .ok : .unprocessableContent)
        }
        // Checked before the answer starts: a bad body or key still gets its status code; from here
        // on the status is 200 and each outcome is the last line's.
        return Response(status: .ok, headers: [.contentType: ImportStreamLine.contentType], body: ResponseBody { writer in
            let (steps, continuation) = AsyncStream.makeStream(of: ImportProgress.self, bufferingPolicy: .bufferingNewest(64))
            // Not a child task: a client that goes away does not cancel an import half stored.
            let work = Task { () -> ImportStreamLine in
                defer { continuation.finish() }
                do {
                    let report = try await call { try await job.run(on: adapter, progress: { continuation.yield($0) }) }
                    return ImportStreamLine(report: report, status: report.committed ? 200 : 422)
                } catch let error as APIError {
                    return ImportStreamLine(error: ErrorDetail(code: error.code, message: error.message, requestId: error.requestId), status: Int(error.status.code))
                } catch {
                    return ImportStreamLine(error: ErrorDetail(code: "internal", message: "the import failed", requestId: nil), status: 500)
                }
            }
            for await step in steps {
                try await writer.write(ImportStreamLine(progress: ImportProgressView(step)).line())
            }
            try await writer.write(await work.value.line())
            try await writer.finish(nil)
        })
    }
}

/// An import request's body, read and checked: the file's bytes, its format and protection.
struct ImportJob: Sendable {
    let data: [UInt8]
    let format: SeedFileFormat?
    let protection: TransportProtection
    let partial: Bool

    init(_ request: Request) async throws {
        let body: ImportRequest
        do {
            let buffer = try await request.body.collect(upTo: maximumImportBodyBytes)
            body = try JSONDecoder().decode(ImportRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, code: "invalid-body", message: "the request body is not the expected JSON or is larger than \(maximumImportBodyBytes) bytes")
        }
        guard let data = Data(base64Encoded: body.file, options: .ignoreUnknownCharacters) else {
            throw APIError(.badRequest, code: "invalid-body", message: "file must be the seed file's bytes in Base64")
        }
        self.data = [UInt8](data)
        if let name = body.format {
            guard let parsed = SeedFileFormat(rawValue: name) else { throw APIError(.badRequest, code: "invalid-input", message: "format must be pskc or csv") }
            format = parsed
        } else {
            format = nil
        }
        do { protection = try ServiceAdapter.protection(psk: body.psk, password: body.password) } catch { throw APIError(error) }
        partial = body.partial ?? false
    }

    func run(on adapter: ServiceAdapter, progress: (@Sendable (ImportProgress) -> Void)?) async throws(MFAError) -> ImportReport {
        try await adapter.importSeeds(file: data, format: format, protection: protection, partial: partial, progress: progress)
    }
}

extension ImportStreamLine {
    /// The line's JSON and its line end.
    func line() throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var buffer = ByteBuffer(bytes: try encoder.encode(self))
        buffer.writeStaticString("\n")
        return buffer
    }
}
