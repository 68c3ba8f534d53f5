import MFA
import Synchronization

/// Counters and a latency histogram, exposed as Prometheus text on `/metrics`.
public final class ServerMetrics: Sendable {
    struct State {
        var verifies: [String: Int] = [:]
        var latencyBuckets = [Int](repeating: 0, count: ServerMetrics.bucketBounds.count)
        var latencyCount = 0
        var latencySum = 0.0
        var storeErrors = 0
        var lockouts = 0
        var requests: [Int: Int] = [:]
        var fastPath = 0
    }

    /// Upper bounds (seconds) of the verify latency histogram.
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
    private let state = Mutex(State())

    public init() {}

    func recordVerify(result: String, seconds: Double) {
        state.withLock { s in
            s.verifies[result, default: 0] += 1
            s.latencyCount += 1
            s.latencySum += seconds
            for (i, bound) in Self.bucketBounds.enumerated() where seconds <= bound { s.latencyBuckets[i] += 1 }
        }
    }

    func recordLockout() { state.withLock { $0.lockouts += 1 } }
    func recordStoreError() { state.withLock { $0.storeErrors += 1 } }
    /// A response by status; `fastPath` when ``VerifyFastPath`` answered it.
    func recordResponse(status: Int, fastPath: Bool = false) {
        state.withLock { s in
            s.requests[status, default: 0] += 1
            if fastPath { s.fastPath += 1 }
        }
    }

    /// An error answer: its status, and a store failure when it is one.
    func record(_ error: APIError, fastPath: Bool = false) {
        recordResponse(status: error.status.code, fastPath: fastPath)
        if error.code == MFAError.Code.storeUnavailable.rawValue { recordStoreError() }
    }

    /// The Prometheus text exposition.
    public func render() -> String {
        let s = state.withLock { $0 }
        var lines: [String] = []
        lines.append("# HELP mfa_verify_total Sign-in verifications by result.")
        lines.append("# TYPE mfa_verify_total counter")
        for result in ["accepted", "rejected"] { lines.append("mfa_verify_total{result=\"\(result)\"} \(s.verifies[result] ?? 0)") }
        lines.append("# HELP mfa_verify_duration_seconds Verification latency.")
        lines.append("# TYPE mfa_verify_duration_seconds histogram")
        for (i, bound) in Self.bucketBounds.enumerated() { lines.append("mfa_verify_duration_seconds_bucket{le=\"\(bound)\"} \(s.latencyBuckets[i])") }
        lines.append("mfa_verify_duration_seconds_bucket{le=\"+Inf\"} \(s.latencyCount)")
        lines.append("mfa_verify_duration_seconds_sum \(s.latencySum)")
        lines.append("mfa_verify_duration_seconds_count \(s.latencyCount)")
        lines.append("# HELP mfa_lockouts_total Devices locked by this process after repeated failures.")
        lines.append("# TYPE mfa_lockouts_total counter")
        lines.append("mfa_lockouts_total \(s.lockouts)")
        lines.append("# HELP mfa_store_errors_total Requests that failed because the store did.")
        lines.append("# TYPE mfa_store_errors_total counter")
        lines.append("mfa_store_errors_total \(s.storeErrors)")
        lines.append("# HELP mfa_http_responses_total HTTP responses by status.")
        lines.append("# TYPE mfa_http_responses_total counter")
        for status in s.requests.keys.sorted() { lines.append("mfa_http_responses_total{status=\"\(status)\"} \(s.requests[status]!)") }
        lines.append("# HELP mfa_http_fast_path_total Verify requests answered in the connection's pipeline, without the router (counted in mfa_http_responses_total too).")
        lines.append("# TYPE mfa_http_fast_path_total counter")
        lines.append("mfa_http_fast_path_total \(s.fastPath)")
        return lines.joined(separator: "\n") + "\n"
    }
}
