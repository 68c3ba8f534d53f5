import TokenDevices
import Foundation
import OTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a virtual YKOATH card keeps across power cycles: firmware version, salt, password key and
/// credentials.
///
/// The JSON form (``load(from:)`` / ``save(to:)``) holds **every secret of the card in clear**: the OATH
/// keys and the password key, hex-encoded. That is acceptable for an emulator that exists for tests, and
/// the file is written with mode 0600, but a state file must be treated like the secrets it contains and
/// never used for real accounts.
public struct YKOATHCardState: Sendable, Hashable, Codable {
    /// Firmware version reported in SELECT (tag 79), exactly 3 bytes. 5.4.3 enables every ykman feature.
    public var version: [UInt8]
    /// The 8-byte salt reported in SELECT (tag 71): the PBKDF2 salt of the password and the device id
    /// hosts use. Regenerated only by RESET, so a stored password key stays usable.
    public var salt: [UInt8]
    /// The access key (the host derives it with PBKDF2 from the password and the salt), or nil.
    public var passwordKey: [UInt8]?
    /// The HMAC algorithm of ``passwordKey``.
    public var passwordAlgorithm: HashAlgorithm
    /// Stored credentials, in insertion order.
    public var credentials: [Credential]

    /// The version the emulator reports unless told otherwise.
    public static let defaultVersion: [UInt8] = [5, 4, 3]
    /// Salt length used by YubiKeys.
    public static let saltLength = 8

    /// An empty card with a fresh random salt.
    public init(version: [UInt8] = YKOATHCardState.defaultVersion) {
        precondition(version.count == 3, "a YKOATH version has 3 bytes")
        self.version = version
        self.salt = LibCrypto.randomBytes(Self.saltLength)
        self.passwordKey = nil
        self.passwordAlgorithm = .sha1
        self.credentials = []
    }

    /// Whether an access key is set (the applet then starts every session locked).
    public var hasPassword: Bool { passwordKey != nil }

    /// The index of the credential whose id is `name`.
    public func index(of name: [UInt8]) -> Int? { credentials.firstIndex { $0.name == name } }

    /// One OATH credential as the applet stores it.
    public struct Credential: Sendable, Hashable, Codable {
        /// The id as stored: `[period/][issuer:]account`, opaque bytes of 1...64.
        public var name: [UInt8]
        public var type: OATHType
        public var algorithm: HashAlgorithm
        /// 6, 7 or 8.
        public var digits: Int
        /// The HMAC key as the host sent it (hosts zero-pad short keys and hash over-long ones).
        public var key: [UInt8]
        /// HOTP: the next moving factor. Unused for TOTP.
        public var counter: UInt64
        /// CALCULATE needs a touch (the applet's touch policy decides what that means).
        public var requireTouch: Bool
        /// Property 01 of PUT, stored and reported only.
        public var onlyIncreasing: Bool

        public init(
            name: [UInt8], type: OATHType, algorithm: HashAlgorithm, digits: Int, key: [UInt8],
            counter: UInt64 = 0, requireTouch: Bool = false, onlyIncreasing: Bool = false
        ) {
            self.name = name
            self.type = type
            self.algorithm = algorithm
            self.digits = digits
            self.key = key
            self.counter = counter
            self.requireTouch = requireTouch
            self.onlyIncreasing = onlyIncreasing
        }

        /// The name as text when it is valid UTF-8.
        public var nameString: String? {
            let text = String(decoding: name, as: UTF8.self)
            return Array(text.utf8) == name ? text : nil
        }

        /// The type|algorithm byte of LIST and PUT (e.g. 0x21 = TOTP/SHA-1).
        public var typeAlgorithmByte: UInt8 { type.nibble | algorithm.oathNibble }

        private enum CodingKeys: String, CodingKey {
            case name, nameHex, type, algorithm, digits, keyHex, counter, requireTouch, onlyIncreasing
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let hexName = try c.decodeIfPresent(String.self, forKey: .nameHex) {
                name = try decodeHex(hexName, key: CodingKeys.nameHex, in: c)
            } else {
                name = Array(try c.decode(String.self, forKey: .name).utf8)
            }
            guard (1...OATHProtocol.maximumNameLength).contains(name.count) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .name, in: c, debugDescription: "a credential name has 1...64 bytes, not \(name.count)")
            }
            let typeText = try c.decode(String.self, forKey: .type)
            guard let type = OATHType(rawValue: typeText) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .type, in: c, debugDescription: "type '\(typeText)' is not hotp or totp")
            }
            self.type = type
            let algorithmText = try c.decode(String.self, forKey: .algorithm)
            guard let algorithm = HashAlgorithm(rawValue: algorithmText) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .algorithm, in: c, debugDescription: "algorithm '\(algorithmText)' is not sha1, sha256 or sha512")
            }
            self.algorithm = algorithm
            digits = try c.decode(Int.self, forKey: .digits)
            guard (6...8).contains(digits) else {
                throw DecodingError.dataCorruptedError(forKey: .digits, in: c, debugDescription: "digits must be 6, 7 or 8")
            }
            key = try decodeHex(try c.decode(String.self, forKey: .keyHex), key: CodingKeys.keyHex, in: c)
            guard key.count <= algorithm.blockBytes else {
                throw DecodingError.dataCorruptedError(
                    forKey: .keyHex, in: c, debugDescription: "a key longer than the hash block (\(algorithm.blockBytes) bytes)")
            }
            counter = try c.decodeIfPresent(UInt64.self, forKey: .counter) ?? 0
            requireTouch = try c.decodeIfPresent(Bool.self, forKey: .requireTouch) ?? false
            onlyIncreasing = try c.decodeIfPresent(Bool.self, forKey: .onlyIncreasing) ?? false
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            // The readable name is informative; nameHex is what decoding uses.
            try c.encodeIfPresent(nameString, forKey: .name)
            try c.encode(Hex.encode(name), forKey: .nameHex)
            try c.encode(type.rawValue, forKey: .type)
            try c.encode(algorithm.rawValue, forKey: .algorithm)
            try c.encode(digits, forKey: .digits)
            try c.encode(Hex.encode(key), forKey: .keyHex)
            try c.encode(counter, forKey: .counter)
            try c.encode(requireTouch, forKey: .requireTouch)
            try c.encode(onlyIncreasing, forKey: .onlyIncreasing)
        }
    }

    // MARK: Codable (format 1)

    /// The only file format so far.
    public static let formatVersion = 1

    private enum CodingKeys: String, CodingKey {
        case format, version, saltHex, passwordKeyHex, passwordAlgorithm, credentials
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decode(Int.self, forKey: .format)
        guard format == Self.formatVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: c, debugDescription: "unsupported state format \(format); expected \(Self.formatVersion)")
        }
        let versionText = try c.decode(String.self, forKey: .version)
        guard let version = Self.parseVersion(versionText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: c, debugDescription: "version '\(versionText)' is not MAJOR.MINOR.PATCH (each 0...255)")
        }
        self.version = version
        salt = try decodeHex(try c.decode(String.self, forKey: .saltHex), key: CodingKeys.saltHex, in: c)
        guard salt.count == Self.saltLength else {
            throw DecodingError.dataCorruptedError(forKey: .saltHex, in: c, debugDescription: "the salt has 8 bytes")
        }
        if let keyText = try c.decodeIfPresent(String.self, forKey: .passwordKeyHex) {
            let key = try decodeHex(keyText, key: CodingKeys.passwordKeyHex, in: c)
            guard (1...64).contains(key.count) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .passwordKeyHex, in: c, debugDescription: "a password key has 1...64 bytes")
            }
            passwordKey = key
        } else {
            passwordKey = nil
        }
        let algorithmText = try c.decodeIfPresent(String.self, forKey: .passwordAlgorithm) ?? "sha1"
        guard let algorithm = HashAlgorithm(rawValue: algorithmText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .passwordAlgorithm, in: c, debugDescription: "algorithm '\(algorithmText)' is not sha1, sha256 or sha512")
        }
        passwordAlgorithm = algorithm
        credentials = try c.decode([Credential].self, forKey: .credentials)
        var seen = Set<[UInt8]>()
        for credential in credentials where !seen.insert(credential.name).inserted {
            throw DecodingError.dataCorruptedError(
                forKey: .credentials, in: c, debugDescription: "two credentials share the name \(Hex.encode(credential.name))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.formatVersion, forKey: .format)
        try c.encode(Self.formatVersion(version), forKey: .version)
        try c.encode(Hex.encode(salt), forKey: .saltHex)
        try c.encodeIfPresent(passwordKey.map { Hex.encode($0) }, forKey: .passwordKeyHex)
        try c.encode(passwordAlgorithm.rawValue, forKey: .passwordAlgorithm)
        try c.encode(credentials, forKey: .credentials)
    }

    /// Parses `5.4.3` into 3 bytes.
    public static func parseVersion(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 3 ? bytes : nil
    }

    /// Formats 3 version bytes as `5.4.3`.
    public static func formatVersion(_ bytes: [UInt8]) -> String { bytes.map(String.init).joined(separator: ".") }

    // MARK: Files

    /// Reads a state written by ``save(to:)``.
    public static func load(from path: String) throws(VirtualTokenError) -> YKOATHCardState {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VirtualTokenError(.stateFileIO, "cannot read state file \(path): \(describe(error))")
        }
        do {
            return try JSONDecoder().decode(YKOATHCardState.self, from: data)
        } catch {
            throw VirtualTokenError(.invalidState, "state file \(path) is not a valid card state: \(describe(error))")
        }
    }

    /// Writes the state as JSON, atomically (a temporary file in the same directory, fsync, rename) and
    /// with mode 0600: it contains every key of the card.
    public func save(to path: String) throws(VirtualTokenError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(self)) + [0x0A]
        } catch {
            throw VirtualTokenError(.invalidState, "cannot encode the card state: \(describe(error))")
        }
        try Self.writeAtomically(bytes, to: path)
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(VirtualTokenError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp-\(getpid())-\(Hex.encode(LibCrypto.randomBytes(4)))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw VirtualTokenError(.stateFileIO, "cannot create \(temporary): \(errnoText())")
        }
        var failure: String? = nil
        var written = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(temporary): \(errnoText())"
                    return
                }
                written += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "cannot fsync \(temporary): \(errnoText())" }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot rename \(temporary) to \(path): \(errnoText())" }
        if let failure {
            unlink(temporary)
            throw VirtualTokenError(.stateFileIO, failure)
        }
        // Make the rename itself durable.
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}

private func decodeHex<K: CodingKey>(_ text: String, key: K, in container: KeyedDecodingContainer<K>) throws -> [UInt8] {
    do {
        return try Hex.decode(text)
    } catch {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: error.message)
    }
}

private func describe(_ error: any Error) -> String {
    if let decoding = error as? DecodingError {
        switch decoding {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(decoding)"
        }
    }
    return (error as NSError).localizedDescription
}

func errnoText() -> String { String(cString: strerror(errno)) }
