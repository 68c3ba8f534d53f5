import Foundation
import MFA
import OTP
@_spi(Testing) import MFAStorePostgres
import Testing

/// The store's `sslmode` rule, read from URLs (no server needed).
@Suite struct PostgresURLTests {
    @Test(arguments: ["127.0.0.1", "127.3.2.1", "localhost", "[::1]"])
    func loopbackDefaultsToPlainText(host: String) throws {
        #expect(try PostgresURL("postgres://u:p@\(host):5432/db").sslMode == .disable)
    }

    @Test(arguments: ["db.example", "10.0.0.5", "127.0.0.1.example", "128.0.0.1", "[2001:db8::1]", "localhost.example"])
    func anyOtherHostDefaultsToVerifyFull(host: String) throws {
        #expect(try PostgresURL("postgres://u:p@\(host)/db").sslMode == .verifyFull)
    }

    @Test func modesAndParametersAreRead() throws {
        let url = try PostgresURL("postgresql://mfa:s%40cret@db.example:6432/mfa?sslmode=verify-full&sslrootcert=/etc/ca.pem&schema=tenant1")
        #expect(url.host == "db.example")
        #expect(url.port == 6432)
        #expect(url.password == "s@cret")
        #expect(url.database == "mfa")
        #expect(url.schema == "tenant1")
        #expect(url.rootCertificatePath == "/etc/ca.pem")
        #expect(try PostgresURL("postgres://u@db.example/db?sslmode=require").sslMode == .require)
        #expect(try PostgresURL("postgres://u@db.example/db?sslmode=disable").sslMode == .disable)
        #expect(try PostgresURL("postgres://u@127.0.0.1/db?sslmode=verify-full").sslMode == .verifyFull)
    }

    /// `prefer` and `allow` fall back to plain text when a man in the middle says "no TLS": refused.
    @Test(arguments: [
        "postgres://u@db.example/db?sslmode=prefer", "postgres://u@db.example/db?sslmode=allow",
        "postgres://u@db.example/db?sslmode=VERIFY-FULL", "postgres://u@db.example/db?sslmode=require&sslrootcert=/ca.pem",
        "postgres://u@db.example/db?sslrootcert=", "postgres://u@db.example/db?sslcert=/c.pem",
        "postgres://u@db.example/db?sslmode=require&sslmode=disable", "mysql://u@db.example/db", "postgres:///db",
    ])
    func badURLsAreRefused(url: String) {
        #expect(throws: MFAError.self) { try PostgresURL(url) }
    }

    @Test func unreadableRootCertificateIsATypedError() throws {
        let url = try PostgresURL("postgres://u@db.example/db?sslrootcert=/nonexistent/ca.pem")
        let error = #expect(throws: MFAError.self) { try url.tlsConfiguration() }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("/nonexistent/ca.pem") == true)
    }
}

/// A real PostgreSQL with `ssl = on`, a self-signed certificate made fresh by
/// scripts/start-postgres-tls.sh, and a role that the server lets in over TLS only.
@Suite(.serialized) struct PostgresTLSTests {
    static let variable = "MFA_TEST_POSTGRES_TLS_URL"

    /// The URL without its query (the tests add their own `sslmode`/`sslrootcert`), and the certificate.
    func server() throws -> (base: String, rootCertificate: String) {
        let url = try #require(ProcessInfo.processInfo.environment[Self.variable], "\(Self.variable) is not set (scripts/start-postgres-tls.sh)")
        let parsed = try PostgresURL(url)
        let root = try #require(parsed.rootCertificatePath)
        let query = try #require(url.firstIndex(of: "?"))
        return (String(url[..<query]), root)
    }

    /// Opens a store in a fresh schema, migrates it and writes and reads one audit entry.
    func roundTrip(_ url: String) async throws {
        let chain = AuditChain(vault: try SecretVault(key: LibCrypto.randomBytes(32)))
        let schema = "tls_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let store = try PostgresMFAStore(url: url, chain: chain, configuration: .init(schema: schema, maximumConnections: 2, startupTimeoutSeconds: 60))
        defer { store.shutdown() }
        try await store.migrate()
        try await store.appendAudit(AuditDraft(time: 1_700_000_000, actor: "tls-test", action: "test", result: "ok", detail: "over TLS"))
        let entries = try await store.auditEntries(after: 0, limit: 10)
        #expect(entries.map(\.draft.action) == ["test"])
    }

    /// Migrates and returns the error; a failure must come at once, not as the start-up timeout.
    func refusal(_ url: String) async throws -> MFAError {
        let chain = AuditChain(vault: try SecretVault(key: LibCrypto.randomBytes(32)))
        let store = try PostgresMFAStore(url: url, chain: chain, configuration: .init(maximumConnections: 1, startupTimeoutSeconds: 60))
        defer { store.shutdown() }
        let started = ContinuousClock.now
        do {
            try await store.migrate()
        } catch {
            #expect(ContinuousClock.now - started < .seconds(30), "the refusal waited for the start-up timeout: \(error.message)")
            return error
        }
        Issue.record("\(url) got in")
        return MFAError(.conflict, "got in")
    }

    @Test func verifyFullWithTheServersCertificateGetsIn() async throws {
        let (base, root) = try server()
        try await roundTrip(base + "?sslmode=verify-full&sslrootcert=" + root)
    }

    /// `require` encrypts without checking the certificate: a self-signed one is fine.
    @Test func requireGetsInWithASelfSignedCertificate() async throws {
        let (base, _) = try server()
        try await roundTrip(base + "?sslmode=require")
    }

    /// The role is refused without TLS: so the two tests above did use TLS.
    @Test func plainTextIsRefusedAndSaysWhy() async throws {
        let (base, _) = try server()
        let error = try await refusal(base + "?sslmode=disable")
        #expect(error.code == .storeUnavailable)
        #expect(error.message.contains("no encryption"), "\(error.message)")
        // The default for a loopback host is plain text: refused the same way.
        #expect(try await refusal(base).message.contains("no encryption"))
    }

    /// The system's roots do not know the test's certificate.
    @Test func verifyFullWithoutTheRootIsRefused() async throws {
        let (base, _) = try server()
        let error = try await refusal(base + "?sslmode=verify-full")
        #expect(error.code == .storeUnavailable)
        #expect(error.message.contains("TLS handshake"), "\(error.message)")
        #expect(!error.message.contains("mfa-tls-test"), "the password leaked into the message")
    }

    /// Another self-signed certificate, made here, is not the server's: refused.
    @Test func verifyFullWithAnotherCertificateIsRefused() async throws {
        let (base, _) = try server()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mfa-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=impostor",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.appendingPathComponent("k.pem").path, "-out",
            dir.appendingPathComponent("c.pem").path,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        let error = try await refusal(base + "?sslmode=verify-full&sslrootcert=" + dir.appendingPathComponent("c.pem").path)
        #expect(error.message.contains("TLS handshake"), "\(error.message)")
    }
}
