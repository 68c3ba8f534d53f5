import Foundation
import MFA
import NIOSSL
import PostgresNIO

/// A PostgreSQL URL read once, with the TLS rule applied: `postgres://user:password@host:port/db`
/// with the query parameters `schema`, `sslmode` and `sslrootcert`.
///
/// Why a rule of our own rather than libpq's `prefer`: a store that holds sealed secrets and the
/// audit chain must not fall back to plain text because an attacker on the path answered "no TLS".
/// So there is no `prefer`: `disable`, `require` (encrypted, the server's certificate not checked)
/// or `verify-full` (the certificate must chain to `sslrootcert`, or to the system's roots without
/// it, and name the host). A loopback host defaults to `disable` (nothing leaves the machine); any
/// other host defaults to `verify-full`.
public struct PostgresURL: Sendable, Equatable {
    /// How the connection is protected.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String?
    public var schema: String?
    public var sslMode: SSLMode
    public var rootCertificatePath: String?

    /// `host:port`, for messages (never the credentials).
    public var endpoint: String { "\(host):\(port)" }

    public init(_ url: String) throws(MFAError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw MFAError(.invalidInput, "not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["schema", "sslmode", "sslrootcert"].contains(item.name) else {
                throw MFAError(.invalidInput, "unknown PostgreSQL URL parameter '\(item.name)' (known: schema, sslmode, sslrootcert)")
            }
            guard query[item.name] == nil else { throw MFAError(.invalidInput, "the PostgreSQL URL names '\(item.name)' twice") }
            query[item.name] = item.value ?? ""
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        user = components.user ?? "postgres"
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        schema = query["schema"]
        if let mode = query["sslmode"] {
            guard let parsed = SSLMode(rawValue: mode) else {
                throw MFAError(.invalidInput, "sslmode must be disable, require or verify-full (no prefer or allow: those fall back to plain text)")
            }
            sslMode = parsed
        } else {
            sslMode = Self.isLoopback(self.host) ? .disable : .verifyFull
        }
        rootCertificatePath = query["sslrootcert"]
        if let path = rootCertificatePath {
            guard !path.isEmpty else { throw MFAError(.invalidInput, "sslrootcert names no file") }
            guard sslMode == .verifyFull else {
                throw MFAError(.invalidInput, "sslrootcert is used only with sslmode=verify-full (sslmode is \(sslMode.rawValue))")
            }
        }
    }

    /// True for names and addresses that cannot leave the machine: `localhost`, 127.0.0.0/8, ::1.
    static func isLoopback(_ host: String) -> Bool {
        if host.utf8.elementsEqual("localhost".utf8) || host.utf8.elementsEqual("::1".utf8) { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    /// The client's TLS setting: nil for `disable`, otherwise a TLS 1.2+ configuration.
    public func tlsConfiguration() throws(MFAError) -> TLSConfiguration? {
        switch sslMode {
        case .disable:
            return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            tls.certificateVerification = .none
            return tls
        case .verifyFull:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            tls.certificateVerification = .fullVerification
            if let path = rootCertificatePath {
                let certificates: [NIOSSLCertificate]
                do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch {
                    throw MFAError(.invalidInput, "sslrootcert \(path) holds no PEM certificate that can be read")
                }
                guard !certificates.isEmpty else { throw MFAError(.invalidInput, "sslrootcert \(path) holds no PEM certificate") }
                tls.trustRoots = .certificates(certificates)
            }
            return tls
        }
    }

    /// The pool's configuration (without the pool's options, which the store sets).
    func clientConfiguration() throws(MFAError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = try tlsConfiguration().map { .require($0) } ?? .disable
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// One connection's configuration, for the first contact at start-up, whose errors (a refused
    /// certificate, a wrong password) are reported as they are instead of as a pool's timeout.
    func connectionConfiguration() throws(MFAError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let configuration = try tlsConfiguration() {
            do { tls = .require(try NIOSSLContext(configuration: configuration)) } catch {
                throw MFAError(.invalidInput, "the PostgreSQL TLS settings cannot be used")
            }
        } else {
            tls = .disable
        }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}
