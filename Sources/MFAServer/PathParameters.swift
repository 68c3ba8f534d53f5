import Foundation
import Hummingbird

extension Parameters {
    /// The path parameter `name`, percent-decoded: Hummingbird hands a parameter over as it came in the
    /// URL, so `/v1/users/alice%20smith/devices` would otherwise look up the user `alice%20smith` (and
    /// find nothing, answered as "no devices"). A malformed escape (`%zz`, a truncated `%4`, bytes
    /// that are not UTF-8) is a 400 naming the parameter, never a lookup of something else.
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError(.badRequest, code: "invalid-input", message: "the path parameter \(name) is not valid percent-encoded UTF-8")
        }
        return decoded
    }
}
