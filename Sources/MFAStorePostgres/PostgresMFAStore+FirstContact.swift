import Logging
import MFA
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

extension PostgresMFAStore {
    /// Opens one connection of its own with the URL's settings, runs `SELECT 1` and closes it.
    ///
    /// Why: the pool retries a failing server forever and reports only that no connection came, so
    /// an admin whose certificate is refused or whose password is wrong would see a timeout. This
    /// first contact says which: it waits (until `deadline`) only while nothing listens, and fails
    /// at once on a TLS failure or a refused login.
    func firstContact(until deadline: ContinuousClock.Instant) async throws(MFAError) {
        let configuration = try url.connectionConfiguration()
        let endpoint = url.endpoint
        let mode = url.sslMode.rawValue
        while true {
            do {
                let connection = try await PostgresConnection.connect(
                    on: Self.eventLoops.next(), configuration: configuration, id: 0, logger: logger
                ).get()
                let probe: Result<Void, any Error>
                do { _ = try await connection.query("SELECT 1", logger: logger).get(); probe = .success(()) } catch { probe = .failure(error) }
                try? await connection.close()
                try probe.get()
                return
            } catch let error as PSQLError {
                if let verdict = Self.verdict(error, endpoint: endpoint, sslMode: mode) { throw verdict }
            } catch {
                if let verdict = Self.tlsVerdict(error, endpoint: endpoint) { throw verdict }
            }
            if ContinuousClock.now >= deadline || Task.isCancelled {
                throw MFAError(.storeUnavailable, "PostgreSQL at \(endpoint) did not answer (is it running? are the URL's host and port right?)")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// What a failed first contact means, or nil while it is worth trying again (nothing listens yet).
    static func verdict(_ error: PSQLError, endpoint: String, sslMode: String) -> MFAError? {
        switch error.code {
        case .sslUnsupported:
            return MFAError(.storeUnavailable, "PostgreSQL at \(endpoint) does not offer TLS, and sslmode=\(sslMode) requires it")
        case .server:
            let state = error.serverInfo?[.sqlState] ?? "?"
            let message = error.serverInfo?[.message] ?? "no message"
            // 57P03: the server is starting up; worth waiting for.
            if state == "57P03" { return nil }
            return MFAError(.storeUnavailable, "PostgreSQL at \(endpoint) refused the session (\(state)): \(message)")
        case .connectionError, .serverClosedConnection, .uncleanShutdown:
            if let underlying = error.underlying, let verdict = tlsVerdict(underlying, endpoint: endpoint) { return verdict }
            return nil
        default:
            if let underlying = error.underlying, let verdict = tlsVerdict(underlying, endpoint: endpoint) { return verdict }
            return MFAError(.storeUnavailable, "PostgreSQL at \(endpoint): \(error.code)")
        }
    }

    /// A TLS failure (untrusted certificate, wrong name, no common protocol) ends the first contact.
    static func tlsVerdict(_ error: any Error, endpoint: String) -> MFAError? {
        if let tls = error as? NIOSSLError {
            return MFAError(.storeUnavailable, "the TLS handshake with PostgreSQL at \(endpoint) failed: \(tls)")
        }
        if let tls = error as? NIOSSLExtraError {
            return MFAError(.storeUnavailable, "the TLS handshake with PostgreSQL at \(endpoint) failed: \(tls)")
        }
        if let tls = error as? BoringSSLError {
            return MFAError(.storeUnavailable, "the TLS handshake with PostgreSQL at \(endpoint) failed: \(tls)")
        }
        return nil
    }
}
