/// The kind of one-time password in an `otpauth://` URI.
public enum OTPType: String, Sendable, Hashable, CaseIterable {
    case totp, hotp
}

/// An `otpauth://TYPE/LABEL?PARAMETERS` Key URI, as authenticator apps scan from QR codes.
///
/// Label: `issuer:account` or `account`, percent-encoded. Parameters: `secret` (Base32, required),
/// `issuer`, `algorithm` (SHA1/SHA256/SHA512, default SHA1), `digits` (6–8, default 6),
/// `period` (TOTP, seconds, default 30), `counter` (HOTP, required). Unknown parameters (e.g.
/// `image`) are ignored; duplicated known ones are an error. `+` is taken literally, spaces must be
/// `%20`. The secret is never part of `description`.
public struct OTPAuthURI: Sendable, CustomStringConvertible {
    public var type: OTPType
    /// Who issues the credential (`Example Corp`), from the label prefix and/or the `issuer` parameter.
    public var issuer: String?
    /// The account name (`alice@example.com`).
    public var account: String
    public var secret: OTPSecret
    public var algorithm: HashAlgorithm
    public var digits: Int
    /// TOTP step in seconds (ignored for HOTP).
    public var period: Int64
    /// HOTP initial counter (ignored for TOTP).
    public var counter: UInt64

    /// A URI from its parts. Throws for digits outside 6–8, a non-positive period, or an empty account.
    public init(
        type: OTPType, issuer: String?, account: String, secret: OTPSecret, algorithm: HashAlgorithm = .sha1,
        digits: Int = 6, period: Int64 = 30, counter: UInt64 = 0
    ) throws(OTPError) {
        try OTPCode.checkDigits(digits)
        guard period > 0 else { throw OTPError(.invalidPeriod, "the period must be positive, got \(period)") }
        guard !account.isEmpty else { throw OTPError(.invalidURI, "the account name is empty") }
        // The Key URI Format separates issuer and account with the first ':' (or %3A): a colon in the
        // account would make the URI read back as another issuer and account (found by fuzzing).
        guard !account.contains(":") else {
            throw OTPError(.invalidParameter, "the account name must not contain ':' (it separates the issuer in an otpauth label)")
        }
        if let issuer, issuer.contains(":") {
            throw OTPError(.invalidParameter, "the issuer must not contain ':'")
        }
        self.type = type
        self.issuer = issuer
        self.account = account
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.counter = counter
    }

    /// Parses an `otpauth://` URI; every error names the part that is wrong.
    public init(parsing text: String) throws(OTPError) {
        let prefix = "otpauth://"
        guard text.count > prefix.count, text.prefix(prefix.count).lowercased() == prefix else {
            throw OTPError(.invalidURI, "not an otpauth URI: it must start with 'otpauth://'")
        }
        let rest = text.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw OTPError(.invalidURI, "the otpauth URI has no label: expected otpauth://TYPE/LABEL?secret=…")
        }
        let typeText = rest[..<slash].lowercased()
        guard let type = OTPType(rawValue: typeText) else {
            throw OTPError(.unsupportedType, "unsupported OTP type '\(typeText)': expected totp or hotp")
        }
        let afterType = rest[rest.index(after: slash)...]
        let labelPart: Substring
        let queryPart: Substring
        if let question = afterType.firstIndex(of: "?") {
            labelPart = afterType[..<question]
            queryPart = afterType[afterType.index(after: question)...]
        } else {
            labelPart = afterType
            queryPart = ""
        }
        if let hash = queryPart.firstIndex(of: "#") {
            throw OTPError(.invalidURI, "the otpauth URI has a fragment at position \(queryPart.distance(from: queryPart.startIndex, to: hash) + 1) of its query")
        }
        let label = try Self.percentDecode(labelPart, what: "label")
        var labelIssuer: String?
        var account = label
        if let colon = label.firstIndex(of: ":") {
            labelIssuer = String(label[..<colon])
            account = String(label[label.index(after: colon)...].drop(while: { $0 == " " }))
            if labelIssuer!.isEmpty { labelIssuer = nil }
        }
        guard !account.isEmpty else { throw OTPError(.invalidURI, "the label has no account name") }

        var parameters: [String: String] = [:]
        for pair in queryPart.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.percentDecode(pieces[0], what: "parameter name").lowercased()
            let value = pieces.count > 1 ? try Self.percentDecode(pieces[1], what: "parameter '\(name)'") : ""
            guard Self.knownParameters.contains(name) else { continue }
            guard parameters[name] == nil else {
                throw OTPError(.invalidParameter, "the parameter '\(name)' appears more than once")
            }
            parameters[name] = value
        }
        guard let secretText = parameters["secret"], !secretText.isEmpty else {
            throw OTPError(.missingParameter, "the otpauth URI has no 'secret' parameter")
        }
        let secret: OTPSecret
        do { secret = try OTPSecret(base32: secretText) } catch {
            throw OTPError(error.code, "parameter 'secret': \(error.message)")
        }
        var issuer = labelIssuer
        if let parameterIssuer = parameters["issuer"], !parameterIssuer.isEmpty {
            if let labelIssuer, labelIssuer != parameterIssuer {
                throw OTPError(
                    .invalidParameter,
                    "the issuer in the label ('\(labelIssuer)') differs from the issuer parameter ('\(parameterIssuer)')")
            }
            issuer = parameterIssuer
        }
        var algorithm = HashAlgorithm.sha1
        if let name = parameters["algorithm"] {
            do { algorithm = try HashAlgorithm(parsing: name) } catch {
                throw OTPError(.invalidParameter, "parameter 'algorithm': \(error.message)")
            }
        }
        var digits = 6
        if let text = parameters["digits"] {
            guard let value = Int(text), (6...8).contains(value) else {
                throw OTPError(.invalidParameter, "parameter 'digits' must be 6, 7 or 8, got '\(text)'")
            }
            digits = value
        }
        var period: Int64 = 30
        if let text = parameters["period"], type == .totp {
            guard let value = Int64(text), value > 0 else {
                throw OTPError(.invalidParameter, "parameter 'period' must be a positive number of seconds, got '\(text)'")
            }
            period = value
        }
        var counter: UInt64 = 0
        if type == .hotp {
            guard let text = parameters["counter"] else {
                throw OTPError(.missingParameter, "an hotp URI needs a 'counter' parameter")
            }
            guard let value = UInt64(text) else {
                throw OTPError(.invalidParameter, "parameter 'counter' must be a non-negative integer, got '\(text)'")
            }
            counter = value
        }
        try self.init(
            type: type, issuer: issuer, account: account, secret: secret, algorithm: algorithm, digits: digits,
            period: period, counter: counter)
    }

    /// The URI text, secret included (show it once, at enrollment; never log it).
    public var uriString: String {
        var label = Self.percentEncode(account)
        if let issuer { label = Self.percentEncode(issuer) + ":" + label }
        var query = ["secret=" + secret.base32EncodedString(padding: false)]
        if let issuer { query.append("issuer=" + Self.percentEncode(issuer)) }
        query.append("algorithm=" + algorithm.uriName)
        query.append("digits=\(digits)")
        switch type {
        case .totp: query.append("period=\(period)")
        case .hotp: query.append("counter=\(counter)")
        }
        return "otpauth://\(type.rawValue)/\(label)?" + query.joined(separator: "&")
    }

    /// The URI with the secret redacted.
    public var description: String {
        uriString.replacingSecret()
    }

    static let knownParameters: Set<String> = ["secret", "issuer", "algorithm", "digits", "period", "counter"]

    /// Percent-encodes everything except RFC 3986 unreserved characters.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "@"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }

    static func percentDecode(_ text: Substring, what: String) throws(OTPError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        var position = 0
        while let byte = iterator.next() {
            position += 1
            if byte == UInt8(ascii: "%") {
                guard let h = iterator.next(), let l = iterator.next(),
                    let value = try? Hex.decode(String(decoding: [h, l], as: UTF8.self)).first
                else {
                    throw OTPError(.invalidURI, "\(what): broken percent-encoding at position \(position)")
                }
                position += 2
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw OTPError(.invalidURI, "\(what): percent-encoding does not decode to UTF-8")
        }
        if decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw OTPError(.invalidURI, "\(what) contains control characters")
        }
        return decoded
    }
}

extension String {
    fileprivate func replacingSecret() -> String {
        guard let range = range(of: "secret=") else { return self }
        let tail = self[range.upperBound...]
        let end = tail.firstIndex(of: "&") ?? endIndex
        return String(self[..<range.upperBound]) + "<redacted>" + String(self[end...])
    }

    fileprivate func range(of needle: String) -> Range<Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
