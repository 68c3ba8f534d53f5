import Hummingbird
import MFA

/// JSON bodies of the API (see Docs/api.md).
public struct VerifyRequest: Codable, Sendable {
    public var user: String
    public var code: String
    public init(user: String, code: String) {
        self.user = user
        self.code = code
    }
}

public struct VerifyResponse: ResponseCodable, Sendable {
    /// `accepted` or `rejected` — nothing else, for every kind of rejection.
    public var result: String
    public var serial: String?

    public init(result: String, serial: String? = nil) {
        self.result = result
        self.serial = serial
    }
}

public struct CreateVirtualRequest: Codable, Sendable {
    public var user: String
    public var issuer: String?
    /// `virtual-totp` (default) or `oath-card` / `hid-slot` for a token the client programs itself.
    public var kind: String?

    public init(user: String, issuer: String? = nil, kind: String? = nil) {
        self.user = user
        self.issuer = issuer
        self.kind = kind
    }
}

public struct CreateVirtualResponse: ResponseCodable, Sendable {
    public var serial: String
    /// The Base32 seed, returned this once.
    public var secret: String
    public var uri: String
    /// The URI as a QR code, PNG, Base64 (returned this once, like the seed).
    public var qrPNG: String?

    public init(serial: String, secret: String, uri: String, qrPNG: String? = nil) {
        self.serial = serial
        self.secret = secret
        self.uri = uri
        self.qrPNG = qrPNG
    }
}

public struct RegisterRequest: Codable, Sendable {
    public var serial: String
    public var kind: String
    public var secret: String?
    public var secretHex: String?
    public var algorithm: String?
    public var digits: Int?
    public var period: Int64?
    public var counter: Int64?
    public var user: String?

    public init(serial: String, kind: String, secret: String? = nil, secretHex: String? = nil, algorithm: String? = nil, digits: Int? = nil, period: Int64? = nil, counter: Int64? = nil, user: String? = nil) {
        self.serial = serial
        self.kind = kind
        self.secret = secret
        self.secretHex = secretHex
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.counter = counter
        self.user = user
    }
}

public struct TwoCodesRequest: Codable, Sendable {
    public var user: String
    public var code1: String
    public var code2: String

    public init(user: String, code1: String, code2: String) {
        self.user = user
        self.code1 = code1
        self.code2 = code2
    }
}

public struct CodeRequest: Codable, Sendable {
    public var code: String

    public init(code: String) {
        self.code = code
    }
}

public struct DeviceView: ResponseCodable, Sendable {
    public var serial: String
    public var kind: String
    public var user: String?
    public var state: String
    public var algorithm: String
    public var digits: Int
    public var period: Int64?
    public var counter: Int64?
    public var driftSteps: Int64
    public var failureCount: Int
    public var lockedUntil: Int64?
    public var createdAt: Int64
    public var enabledAt: Int64?
    public var lastUsedAt: Int64?

    public init(_ d: DeviceRecord) {
        serial = d.serial
        kind = d.kind.rawValue
        user = d.owner
        state = d.state.rawValue
        algorithm = d.algorithm.rawValue
        digits = d.digits
        period = d.kind.isCounterBased ? nil : d.period
        counter = d.kind.isCounterBased ? d.counter : nil
        driftSteps = d.driftSteps
        failureCount = d.failureCount
        lockedUntil = d.lockedUntil
        createdAt = d.createdAt
        enabledAt = d.enabledAt
        lastUsedAt = d.lastUsedAt
    }
}

public struct DeviceList: ResponseCodable, Sendable {
    public var devices: [DeviceView]

    public init(devices: [DeviceView]) {
        self.devices = devices
    }
}

public struct StatusResponse: ResponseCodable, Sendable {
    public var status: String
    public var serial: String?

    public init(status: String, serial: String? = nil) {
        self.status = status
        self.serial = serial
    }
}

public struct DiagnosisResponse: ResponseCodable, Sendable {
    public var diagnosis: Diagnosis

    public init(diagnosis: Diagnosis) {
        self.diagnosis = diagnosis
    }
}

public struct ReportResponse: ResponseCodable, Sendable {
    public var rows: [CredentialReportRow]

    public init(rows: [CredentialReportRow]) {
        self.rows = rows
    }
}

public struct AuditEntryView: Codable, Sendable {
    public var sequence: Int64
    public var time: Int64
    public var actor: String
    public var action: String
    public var user: String?
    public var serial: String?
    public var result: String
    public var detail: String
    public var hash: String

    public init(sequence: Int64, time: Int64, actor: String, action: String, user: String? = nil, serial: String? = nil, result: String, detail: String, hash: String) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.action = action
        self.user = user
        self.serial = serial
        self.result = result
        self.detail = detail
        self.hash = hash
    }
}

public struct AuditListResponse: ResponseCodable, Sendable {
    public var entries: [AuditEntryView]

    public init(entries: [AuditEntryView]) {
        self.entries = entries
    }
}

public struct AuditVerifyResponse: ResponseCodable, Sendable {
    public var ok: Bool
    public var entries: Int
    public var brokenAt: Int64?
    public var reason: String?

    public init(ok: Bool, entries: Int, brokenAt: Int64? = nil, reason: String? = nil) {
        self.ok = ok
        self.entries = entries
        self.brokenAt = brokenAt
        self.reason = reason
    }
}

/// `POST /v1/tokens/import`: a seed file and how it is protected (see Docs/api.md and Docs/import.md).
public struct ImportRequest: Codable, Sendable {
    /// `pskc` or `csv`; detected from the content when absent.
    public var format: String?
    /// The file's bytes, Base64.
    public var file: String
    /// Pre-shared transport key, hex (AES-128/192/256).
    public var psk: String?
    /// Passphrase for a PBKDF2-protected PSKC file.
    public var password: String?
    /// Import the good keys even when others are rejected.
    public var partial: Bool?

    public init(format: String? = nil, file: String, psk: String? = nil, password: String? = nil, partial: Bool? = nil) {
        self.format = format
        self.file = file
        self.psk = psk
        self.password = password
        self.partial = partial
    }
}

extension ImportReport: ResponseEncodable {}
