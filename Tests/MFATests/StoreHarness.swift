import Foundation
import MFA
@_spi(Testing) import MFAStorePostgres
@_spi(Testing) import MFAStoreSQLite
import OTP
import Testing

/// The two store implementations the conformance suite runs against, unchanged.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The stores this run tests: both, unless a developer asked for the fast unit set with
    /// `MFA_UNIT_ONLY=1` (SQLite only, no PostgreSQL needed; `scripts/test.sh` and CI never set it).
    static var inThisRun: [StoreKind] {
        (ProcessInfo.processInfo.environment["MFA_UNIT_ONLY"] ?? "").isEmpty ? allCases : [.sqlite]
    }
}

/// A clock the tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ start: Int64 = 1_700_000_000) { value = start }
    var now: Int64 { lock.withLock { value } }
    func advance(_ seconds: Int64) { lock.withLock { value += seconds } }
}

/// One isolated store (a fresh SQLite file, or a fresh PostgreSQL schema) plus a service over it.
struct Harness: Sendable {
    let kind: StoreKind
    let store: any MFAStore
    let service: MFAService
    let vault: SecretVault
    let clock: TestClock
    /// Re-opens the same database with an independent store instance (as another process would).
    let reopen: @Sendable () async throws -> any MFAStore
    /// Re-opens the same database with another vault key (after a rotation, or to be refused).
    let reopenWith: @Sendable (SecretVault) async throws -> any MFAStore
    let raw: @Sendable (String) async throws -> Void
    /// The first column of the first row of a query, as an integer.
    let integer: @Sendable (String) async throws -> Int64?

    static let postgresURLVariable = "MFA_TEST_POSTGRES_URL"
    /// The store's start-up and stall bounds (8 s and 10 s for an operator) count time spent waiting
    /// for a thread of the cooperative pool. In the whole suite two cores run every test at once, and
    /// a CI run once had every PostgreSQL test time out after 36 s of a busy pool: tests allow more.
    static let postgresPatienceSeconds = 120

    static func make(_ kind: StoreKind, policy: Policy = Policy()) async throws -> Harness {
        let vault = try SecretVault(key: LibCrypto.randomBytes(32))
        let chain = AuditChain(vault: vault)
        let clock = TestClock()
        switch kind {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-\(UUID().uuidString).sqlite").path
            let store = try SQLiteMFAStore(path: path, chain: chain)
            try await store.migrate()
            return Harness(
                kind: kind, store: store, service: MFAService(store: store, vault: vault, policy: policy, clock: { clock.now }), vault: vault,
                clock: clock,
                reopen: {
                    let other = try SQLiteMFAStore(path: path, chain: chain)
                    try await other.migrate()
                    return other
                },
                reopenWith: { vault in
                    let other = try SQLiteMFAStore(path: path, chain: AuditChain(vault: vault))
                    try await other.migrate()
                    return other
                },
                raw: { try await store.executeRaw($0) }, integer: { try await store.integerRaw($0) })
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment[postgresURLVariable] else {
                Issue.record("\(postgresURLVariable) is not set: start PostgreSQL with scripts/start-postgres.sh (scripts/test.sh and CI do)")
                throw MFAError(.storeUnavailable, "no PostgreSQL configured")
            }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let open = { @Sendable (chain: AuditChain) async throws -> PostgresMFAStore in
                let store = try PostgresMFAStore(
                    url: url, chain: chain,
                    configuration: .init(schema: schema, maximumConnections: 4, startupTimeoutSeconds: Self.postgresPatienceSeconds,
                                         stallTimeoutSeconds: Self.postgresPatienceSeconds))
                try await store.migrate()
                return store
            }
            let store = try await open(chain)
            return Harness(
                kind: kind, store: store, service: MFAService(store: store, vault: vault, policy: policy, clock: { clock.now }), vault: vault,
                clock: clock,
                reopen: { try await open(chain) },
                reopenWith: { vault in try await open(AuditChain(vault: vault)) },
                raw: { try await store.executeRaw($0) }, integer: { try await store.integerRaw($0) })
        }
    }

    /// The service over another store instance on the same database.
    func otherProcess() async throws -> MFAService {
        MFAService(store: try await reopen(), vault: vault, policy: service.policy, clock: { clock.now })
    }

    /// TOTP code of `secret` at the test clock's time plus `offset` seconds.
    func totp(_ secret: OTPSecret, offset: Int64 = 0, digits: Int = 6, period: Int64 = 30, algorithm: HashAlgorithm = .sha1) throws -> String {
        try TOTP(secret: secret, algorithm: algorithm, digits: digits, period: period).code(at: clock.now + offset).description
    }

    /// Creates a virtual device for `user` and enables it with two consecutive codes; returns its secret.
    @discardableResult
    func enrolledVirtual(_ user: String) async throws -> (serial: String, secret: OTPSecret) {
        let enrollment = try await service.createVirtual(user: user, actor: "test")
        let secret = try OTPSecret(base32: enrollment.secretBase32)
        try await service.enable(user: user, serial: enrollment.serial, code1: totp(secret, offset: -30), code2: totp(secret), actor: "test")
        return (enrollment.serial, secret)
    }
}

enum PostgresMFAStoreFactory {
    /// A store pointed at a port where nothing listens (loopback only).
    static func unreachable(chain: AuditChain) throws -> any MFAStore {
        try PostgresMFAStore(url: "postgres://mfa:x@127.0.0.1:1/none", chain: chain)
    }
}
