import Hummingbird
import Synchronization

/// The routes the API serves, by path pattern and method: registered through ``RouteTable/add``
/// together with the handler, so a path with the wrong method is answered 405 with `Allow`, not 404.
final class RouteTable: Sendable {
    private let entries = Mutex<[(segments: [Substring], methods: Set<HTTPRequest.Method>)]>([])

    /// Registers `handler` for `method` on `path` (`:name` segments are parameters).
    func add<Context: RequestContext, Output: ResponseGenerator>(
        _ router: Router<Context>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) {
        router.on(RouterPath(path), method: method, use: handler)
        let segments = path.split(separator: "/")
        entries.withLock { entries in
            if let i = entries.firstIndex(where: { $0.segments == segments }) {
                entries[i].methods.insert(method)
            } else {
                entries.append((segments, [method]))
            }
        }
    }

    /// The methods served on `path`, or nil when no route has this path.
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let parts = path.split(separator: "/")
        // The most literal pattern wins (`/v1/devices/virtual` over `/v1/devices/:serial`), as in the
        // router's trie, whatever order the groups added them in.
        return entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == parts.count && zip(entry.segments, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }.min { $0.segments.count(where: { $0.hasPrefix(":") }) < $1.segments.count(where: { $0.hasPrefix(":") }) }?.methods
        }
    }
}

/// Answers a known path requested with a method it does not serve: 405 with `Allow`; an unknown path: 404 `no-such-route`.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let methods = table.methods(for: request.uri.path) else {
            // The documented error shape, not an empty 404 (the path is not echoed back).
            throw APIError(.notFound, code: "no-such-route", message: "no such route (the routes are in Docs/api.md)")
        }
        if !methods.contains(request.method) {
            let allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
            var response = try APIError(.methodNotAllowed, code: "method-not-allowed", message: "\(request.method.rawValue) is not allowed here; use \(allow)")
                .response(from: request, context: context)
            response.headers[.allow] = allow
            return response
        }
        return try await next(request, context)
    }
}
