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
    private struct Pair: Sendable {
        let files: TLSFiles
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
    }

    private let current: Mutex<Pair>

    /// Loads `files` (a clear error when either cannot be read or parsed).
    public init(_ files: TLSFiles) throws(MFAError) {
        current = Mutex(try Self.load(files))
    }

    /// The files in force.
    public var files: TLSFiles { current.withLock { $0.files } }

    /// Loads `files` and uses them for the next handshakes.
    public func reload(_ files: TLSFiles) throws(MFAError) {
        let pair = try Self.load(files)
        current.withLock { $0 = pair }
    }

    /// The configuration of the server's TLS channel: ``ServerPreflight/tlsConfiguration(_:)``'s
    /// versions and suites, with the pair in force chosen at each handshake.
    func configuration() throws(MFAError) -> TLSConfiguration {
        var configuration = try ServerPreflight.tlsConfiguration(files)
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
    private static func load(_ files: TLSFiles) throws(MFAError) -> Pair {
        let (chain, key) = try ServerPreflight.loadTLS(files)
        do { _ = try NIOSSLContext(configuration: ServerPreflight.tlsConfiguration(files)) } catch {
            throw MFAError(.invalidInput, "the TLS key \(files.privateKey) does not go with the certificate \(files.certificate) (\(error))")
        }
        return Pair(files: files, chain: chain, key: key)
    }

    /// Checks `files` without using them (a reload checks everything before it changes anything).
    public static func check(_ files: TLSFiles) throws(MFAError) { _ = try load(files) }
}
