import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MFA
import MFAServer
import SeedImport

extension RemoteBackend {
    /// `POST /v1/tokens/import` asking for the line-per-step answer (`application/x-ndjson`), so the
    /// progress bar moves while the server reads, checks, seals and stores; the last line is the
    /// report. A server that answers with one JSON report (an older one) is understood too.
    func importSeeds(file: [UInt8], format: SeedFileFormat?, psk: String?, password: String?, partial: Bool,
                     progress: (@Sendable (ImportProgress) -> Void)?) async throws -> ImportReport {
        let body = ImportRequest(format: format?.rawValue, file: Data(file).base64EncodedString(), psk: psk, password: password, partial: partial)
        var request = try urlRequest("POST", "/v1/tokens/import", body: body)
        request.setValue(ImportStreamLine.contentType, forHTTPHeaderField: "Accept")
        // Storing a large file sends no line until it commits: URLSession's 60 s without data would
        // report a failure for an import that succeeds.
        request.timeoutInterval = 3_600
        let last = LockedLine()
        let (status, data) = try await LineStream.run(request, base: base) { line in
            guard let decoded = try? JSONDecoder().decode(ImportStreamLine.self, from: line) else { return }
            if let step = decoded.progress?.progress { progress?(step) } else { last.set(decoded) }
        }
        guard (200..<300).contains(status) else {
            // Refused before the import began (a bad body, a key without the scope), or an older
            // server's 422 with the report of an import that stored nothing.
            if status == 422, let report = try? JSONDecoder().decode(ImportReport.self, from: data) { return report }
            throw Self.error(status: status, body: data)
        }
        if let line = last.get() {
            if let report = line.report { return report }
            if let error = line.error { throw RemoteError(status: line.status ?? 500, code: error.code, message: error.message) }
        }
        if let report = try? JSONDecoder().decode(ImportReport.self, from: data) { return report }
        throw CLIError("the server's answer to POST /v1/tokens/import is not an import report")
    }
}

/// The last non-progress line of a stream (delegate callbacks come on URLSession's queue).
private final class LockedLine: @unchecked Sendable {
    private let lock = NSLock()
    private var line: ImportStreamLine?
    func set(_ value: ImportStreamLine) { lock.withLock { line = value } }
    func get() -> ImportStreamLine? { lock.withLock { line } }
}

/// One HTTP request whose answer is handed over a line at a time as it arrives (a 2xx answer), or
/// kept whole (any other status, for its error body). Returns the status and what was not handed over.
final class LineStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var status = 0
    private var pending = Data()
    private let onLine: @Sendable (Data) -> Void
    private var continuation: CheckedContinuation<(Int, Data), any Error>?
    private let base: URL

    private init(base: URL, onLine: @escaping @Sendable (Data) -> Void) {
        self.base = base
        self.onLine = onLine
    }

    static func run(_ request: URLRequest, base: URL, onLine: @escaping @Sendable (Data) -> Void) async throws -> (Int, Data) {
        let stream = LineStream(base: base, onLine: onLine)
        let session = URLSession(configuration: .default, delegate: stream, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            stream.lock.withLock { stream.continuation = continuation }
            session.dataTask(with: request).resume()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { status = (response as? HTTPURLResponse)?.statusCode ?? 0 }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        var lines: [Data] = []
        lock.withLock {
            pending.append(data)
            guard (200..<300).contains(status) else { return }
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(Data(pending[pending.startIndex..<end]))
                pending = Data(pending[pending.index(after: end)...])
            }
        }
        for line in lines { onLine(line) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, status, rest) = lock.withLock { () -> (CheckedContinuation<(Int, Data), any Error>?, Int, Data) in
            defer { self.continuation = nil }
            return (self.continuation, self.status, pending)
        }
        if let error {
            continuation?.resume(throwing: CLIError("cannot reach \(base.absoluteString): \(error.localizedDescription)"))
        } else {
            continuation?.resume(returning: (status, rest))
        }
    }
}
