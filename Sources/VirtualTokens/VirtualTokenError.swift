import TokenDevices
import OTP

/// An error of the virtual tokens: their state files and their connection to a virtual reader.
///
/// Same shape as the project's other errors: an extensible ``Code`` (equality compares codes only) and
/// a message that names the file, address or field at fault, never key material.
public struct VirtualTokenError: CodedError {
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A state file that cannot be read or written.
        public static let stateFileIO = Code(rawValue: "state-file-io")
        /// A state file whose content is not a valid card state.
        public static let invalidState = Code(rawValue: "invalid-state")
        /// A `HOST:PORT` that cannot be parsed or resolved.
        public static let invalidAddress = Code(rawValue: "invalid-address")
        /// The virtual reader could not be reached before the deadline, or a socket call failed.
        public static let connectionFailed = Code(rawValue: "connection-failed")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
