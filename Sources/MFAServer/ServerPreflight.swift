import Foundation
import MFA
import NIOCore
import NIOPosix
import NIOSSL

/// Checks `mfactl serve` makes before it opens or creates anything (a store, a vault key, the first
/// admin key): a server that cannot listen or load its certificate must not leave a new store with
/// a printed admin key behind.
public enum ServerPreflight {
    /// Why `host:port` cannot be listened on, in one line for an admin; nil when it can (port 0, any
    /// free port, always can). The probe binds and closes at once: another process may still take the
    /// port before the server binds, which ``listenProblem(_:host:port:)`` then words the same way.
    public static func listenProblem(host: String, port: Int) async -> String? {
        guard port != 0 else { return nil }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch {
            return listenProblem(error, host: host, port: port) ?? "cannot listen on \(host):\(port): \(error)"
        }
    }

    /// `error`, thrown while binding `host:port`, as one line for an admin; nil when it is not a bind error.
    public static func listenProblem(_ error: any Error, host: String, port: Int) -> String? {
        let shown = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE: return "cannot listen on \(shown): the address is already in use (another server on that port?)"
            case EACCES: return "cannot listen on \(shown): permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
            case EADDRNOTAVAIL: return "cannot listen on \(shown): that address is not one of this machine's"
            default: return "cannot listen on \(shown): \(String(cString: strerror(error.errnoCode)))"
            }
        }
        if error is SocketAddressError || error is SocketAddressError.UnknownHost { return "cannot listen on \(shown): the host name does not resolve to an address" }
        return nil
    }

    /// Whether `host` is a loopback address or name: beyond it, a server without TLS sends API keys
    /// and codes across a network in clear.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The server's TLS configuration from PEM files: TLS 1.2 at least; under 1.2 only
    /// forward-secret (ECDHE) AEAD suites (1.3's are all both). Checked before anything is created.
    public static func tlsConfiguration(_ tls: TLSFiles) throws(MFAError) -> TLSConfiguration {
        let (certificates, key) = try loadTLS(tls)
        return tlsConfiguration(chain: certificates, key: key)
    }

    /// ``tlsConfiguration(_:)`` of a chain and key already loaded.
    static func tlsConfiguration(chain certificates: [NIOSSLCertificate], key: NIOSSLPrivateKey) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = tlsCipherSuites
        return configuration
    }

    /// The certificate chain and private key of `tls`, or a clear error naming the files.
    static func loadTLS(_ tls: TLSFiles) throws(MFAError) -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let certificates: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate)
            key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
        } catch {
            throw MFAError(.invalidInput, "cannot load the TLS certificate \(tls.certificate) or key \(tls.privateKey): \(error)")
        }
        guard !certificates.isEmpty else { throw MFAError(.invalidInput, "no certificate in \(tls.certificate)") }
        return (certificates, key)
    }
}
