import Foundation
import Hummingbird
import MFA
import Synchronization

/// `serve --access-log`: one line per HTTP request, for operators and log shippers.
///
/// `ADDRESS KEY [TIME] "METHOD PATH" STATUS BYTES DURATIONms`, e.g.
/// `127.0.0.1 key:3f2a9c1d0b4e [2026-12-04T17:50:25Z] "POST /v1/verify" 200 38 0.9ms`. Never a code,
/// a token or a body: the query string is left out, the key is its id and only once the key
/// authenticated (`-` otherwise). Lines are appended with one `write(2)` each on an `O_APPEND`
/// descriptor, so several server processes can share one file without interleaving.
///
/// ``reopen()`` (serve's SIGHUP) opens the path again, so log rotation can move the file away.
public final class AccessLog: Sendable {
    /// The descriptor lines are written to; a reopen moves a new file onto this same number with
    /// `dup2(2)` (atomic), so writes need no lock and never meet a closed descriptor.
    private let descriptor: Int32
    public let path: String

    /// Opens `path` for appending (created 0640 when missing; its directory must exist), or standard
    /// output for `-`. Throws a one-line reason.
    public init(path: String) throws {
        self.path = path
        descriptor = try Self.open(path)
    }

    private static func open(_ path: String) throws -> Int32 {
        if path == "-" { return STDOUT_FILENO }
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw AccessLogError(message: "--access-log \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Opens the path again (after a rotation moved the file) and closes the old descriptor; on an
    /// error the old one stays in use.
    public func reopen() throws {
        guard path != "-" else { return }
        let fresh = try Self.open(path)
        defer { close(fresh) }
        guard dup2(fresh, descriptor) >= 0 else { throw AccessLogError(message: "--access-log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if descriptor != STDOUT_FILENO { close(descriptor) } }

    /// Writes one entry (best effort: a full disk must not fail the request it describes).
    func record(address: String?, keyID: String?, method: String, path: String, status: Int, bytes: Int?, duration: Duration) {
        let milliseconds = Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
        let line = "\(address ?? "-") \(keyID.map { "key:\($0)" } ?? "-") [\(SecondsText.iso(Int64(Date().timeIntervalSince1970)))] "
            + "\"\(Self.clean(method)) \(Self.clean(path))\" \(status) \(bytes.map(String.init) ?? "-") \(String(format: "%.1f", milliseconds))ms\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Printable ASCII but `"` and `\`, as is; everything else as `\xHH`, so a request cannot forge a
    /// line or a field.
    static func clean(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (0x21...0x7E).contains(byte) && byte != 0x22 && byte != 0x5C { out.unicodeScalars.append(Unicode.Scalar(byte)) } else {
                out += String(format: "\\x%02X", byte)
            }
        }
        return out
    }
}

public struct AccessLogError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Per-request notes the inner middlewares leave for the access log (the authenticated key's id).
public final class RequestNotes: Sendable {
    private let key = Mutex<String?>(nil)
    public init() {}
    var keyID: String? {
        get { key.withLock { $0 } }
        set { key.withLock { $0 = newValue } }
    }
}

/// The outermost middleware: it sees every answer, errors included, and how long it took.
struct AccessLogMiddleware: RouterMiddleware {
    let log: AccessLog

    func handle(_ request: Request, context: MFARequestContext, next: (Request, MFARequestContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log.record(address: context.remoteAddress, keyID: context.notes.keyID, method: request.method.rawValue, path: request.uri.path,
                       status: response.status.code, bytes: response.body.contentLength, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log.record(address: context.remoteAddress, keyID: context.notes.keyID, method: request.method.rawValue, path: request.uri.path,
                       status: status, bytes: nil, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
