import COpenSSL

/// An HMAC key schedule: the inner and outer digest states of one secret, computed once.
///
/// Every code computed from an `OTPKey` costs two calls of OpenSSL's compression function
/// (SHA-1 and SHA-256: one 64-byte block each; SHA-512: one 128-byte block each) and no allocation.
/// The states are as sensitive as the secret: they live in storage that is wiped on release and
/// never printed.
public final class OTPKey: @unchecked Sendable, CustomStringConvertible {
    /// The hash function of the HMAC.
    public let algorithm: HashAlgorithm
    @usableFromInline let cAlgorithm: Int32
    /// 2 x 64 bytes: inner state, then outer state. Immutable after `init`.
    @usableFromInline let states: UnsafeMutableRawPointer

    /// Derives the key schedule of `secret` for `algorithm`.
    public init(secret: OTPSecret, algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        self.cAlgorithm = algorithm.cIdentifier
        let bytes = 2 * Int(MFA_HMAC_STATE_BYTES)
        states = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        states.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let ok = secret.withUnsafeBytes { raw in
            mfa_hmac_key_schedule(
                cAlgorithm, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), raw.count,
                states, states + Int(MFA_HMAC_STATE_BYTES))
        }
        precondition(ok == 1, "unknown hash algorithm")
    }

    deinit {
        OPENSSL_cleanse(states, 2 * Int(MFA_HMAC_STATE_BYTES))
        states.deallocate()
    }

    /// Runs `body` with a scan over this key: working memory on the stack, both message blocks padded
    /// once, wiped afterwards. Each ``HMACScan/truncated(counter:)`` then costs two compressions.
    @inlinable @inline(__always)
    func withScan<R>(_ body: (HMACScan) -> R) -> R {
        withUnsafeTemporaryAllocation(of: mfa_hmac_scan.self, capacity: 1) { scan in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 12) { words in
                let scanPointer = scan.baseAddress!
                mfa_hmac_scan_init(scanPointer, cAlgorithm, states, states + Int(MFA_HMAC_STATE_BYTES))
                defer { mfa_hmac_scan_wipe(scanPointer) }
                return body(HMACScan(scan: scanPointer, words: words.baseAddress!))
            }
        }
    }

    /// HMAC(secret, counter as 8 bytes big-endian): the RFC 4226 HS value. For diagnostics and tests;
    /// code paths that matter use the allocation-free internals.
    public func hmac(counter: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(MFA_HMAC_MAX_MAC_BYTES))
        out.withUnsafeMutableBufferPointer {
            mfa_hmac_counter(cAlgorithm, states, states + Int(MFA_HMAC_STATE_BYTES), counter, $0.baseAddress!)
        }
        return Array(out.prefix(algorithm.digestBytes))
    }

    /// The `digits`-digit code for `counter`, as a number (dynamic truncation, constant time).
    @inlinable
    func codeValue(counter: UInt64, modulus: DigitsModulus) -> UInt32 {
        withScan { modulus.reduce($0.truncated(counter: counter)) }
    }

    public var description: String { "OTPKey(\(algorithm), <redacted>)" }
}

/// One scan's working memory (see ``OTPKey/withScan(_:)``); valid only inside that closure.
@usableFromInline
struct HMACScan {
    @usableFromInline let scan: UnsafeMutablePointer<mfa_hmac_scan>
    @usableFromInline let words: UnsafeMutablePointer<UInt32>

    @inlinable init(scan: UnsafeMutablePointer<mfa_hmac_scan>, words: UnsafeMutablePointer<UInt32>) {
        self.scan = scan
        self.words = words
    }

    /// RFC 4226 dynamic truncation of HMAC(key, counter): the 31-bit number before `mod 10^digits`.
    @inlinable @inline(__always)
    func truncated(counter: UInt64) -> UInt32 {
        mfa_hmac_scan_words(scan, counter, words)
        return ConstantTime.truncate(words: words)
    }

    /// Calls `body(i, truncated(counter(i)))` for `i` in `0..<count`, in order, computing two codes at a
    /// time with their compressions interleaved. The work depends on `count` only.
    @inlinable @inline(__always)
    func forEachTruncated(count: Int, counter: (Int) -> UInt64, _ body: (Int, UInt32) -> Void) {
        var i = 0
        while i + 1 < count {
            mfa_hmac_scan_words2(scan, counter(i), counter(i + 1), words)
            body(i, ConstantTime.truncate(words: words))
            body(i + 1, ConstantTime.truncate(words: words + 6))
            i += 2
        }
        if i < count { body(i, truncated(counter: counter(i))) }
    }
}
