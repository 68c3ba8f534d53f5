import MFA
import NIOCore
import NIOSSL
import Synchronization

/// The server's certificate and key, replaceable while it runs (`serve`'s SIGHUP after a renewal).
///
/// Each TLS handshake takes the pair in force through NIOSSL's public per-handshake override
/// (`sslContextCallback`), so connections already open keep theirs and new ones get the new pair.
/// A reload that cannot load both files changes nothing.
public final class ServerTLS: Sendable {
    fileprivate struct Pair: Sendable {
        let files: TLSFiles
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
    }

    private let current: Mutex<Pair>

    /// A certificate and key loaded and checked, not yet in use (a reload checks everything before it
    /// changes anything, then uses what it checked).
    public struct Prepared: Sendable {
        fileprivate let pair: Pair
        public var files: TLSFiles { pair.files }
    }

    /// Loads `files` (a clear error when either cannot be read or parsed, or the key is not the
    /// certificate's).
    public init(_ files: TLSFiles) throws(MFAError) {
        current = Mutex(try Self.prepare(files).pair)
    }

    /// The files in force.
    public var files: TLSFiles { current.withLock { $0.files } }

    /// Uses `prepared` for the next handshakes.
    public func use(_ prepared: Prepared) {
        current.withLock { $0 = prepared.pair }
    }

    /// The configuration of the server's TLS channel: ``ServerPreflight/tlsConfiguration(_:)``'s
    /// versions and suites, with the pair in force chosen at each handshake.
    func configuration() -> TLSConfiguration {
        let pair = current.withLock { $0 }
        var configuration = ServerPreflight.tlsConfiguration(chain: pair.chain, key: pair.key)
        configuration.sslContextCallback = { [self] _, promise in
            let pair = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
        return configuration
    }

    /// Both files, and a server context made of them, as at start-up: a key that is not the
    /// certificate's is refused here rather than failing every handshake after the swap.
    public static func prepare(_ files: TLSFiles) throws(MFAError) -> Prepared {
        let (chain, key) = try ServerPreflight.loadTLS(files)
        do { _ = try NIOSSLContext(configuration: ServerPreflight.tlsConfiguration(chain: chain, key: key)) } catch {
            throw MFAError(.invalidInput, "the TLS key \(files.privateKey) does not go with the certificate \(files.certificate) (\(error))")
        }
        return Prepared(pair: Pair(files: files, chain: chain, key: key))
    }
}

/// PEM files of the server certificate (chain) and its private key.
public struct TLSFiles: Sendable {
    public let certificate: String
    public let privateKey: String
    public init(certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

/// TLS 1.2 suites the server offers: ECDHE key exchange, AES-GCM or ChaCha20-Poly1305.
let tlsCipherSuites = [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
].joined(separator: ":")
