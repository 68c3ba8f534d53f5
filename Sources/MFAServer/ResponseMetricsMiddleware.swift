import Hummingbird

/// Counts responses by status (errors included) and store failures.
struct ResponseMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: MFARequestContext, next: (Request, MFARequestContext) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.recordResponse(status: response.status.code)
            return response
        } catch let error as APIError {
            metrics.record(error)
            throw error
        } catch let error as any HTTPResponseError {
            metrics.recordResponse(status: error.status.code)
            throw error
        }
    }
}
