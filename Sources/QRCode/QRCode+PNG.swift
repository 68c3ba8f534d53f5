#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QRCode {
    /// The symbol as a PNG image: black modules on white, each module `scale` × `scale` pixels, with a white
    /// quiet zone of `quietZone` modules on every side, so the image is `(size + 2 * quietZone) * scale`
    /// pixels square.
    ///
    /// The file is 1-bit greyscale, written by this module's own encoder: signature, `IHDR`, one `IDAT`, `IEND`,
    /// each chunk with its CRC-32; the `IDAT` zlib stream uses stored (uncompressed) deflate blocks with an
    /// Adler-32 trailer, so no zlib is linked (a 392 × 392 image is about 20 KB).
    ///
    /// - Important: for an enrollment URI the image encodes the secret: never log it or store it longer than
    ///   needed.
    /// - Parameters:
    ///   - scale: pixels per module side, at least 1. Use 2 or more: decoders miss 1-pixel modules (zbar
    ///     fails on most symbols at scale 1), and small images scan badly once resized.
    ///   - quietZone: white modules around the symbol on each side, at least 0; the standard asks for 4.
    public func pngData(scale: Int = 8, quietZone: Int = 4) -> [UInt8] {
        precondition(scale >= 1, "the scale must be at least 1 pixel per module")
        precondition(quietZone >= 0, "the quiet zone must not be negative")
        let modulesPerSide = size + 2 * quietZone
        let (side, overflow) = modulesPerSide.multipliedReportingOverflow(by: scale)
        precondition(
            !overflow && quietZone <= PNGEncoder.maximumSide && side <= PNGEncoder.maximumSide,
            "the image would be larger than \(PNGEncoder.maximumSide) pixels per side")
        return PNGEncoder.encode(width: side, height: side) { x, y in
            isDark(x: x / scale - quietZone, y: y / scale - quietZone)
        }
    }

    /// Writes ``pngData(scale:quietZone:)`` to `path`, readable and writable by the owner only (mode 0600).
    ///
    /// The image is written to a new temporary file next to `path` (created with mode 0600, never an existing
    /// file or symbolic link), flushed to disk, then renamed over `path`: readers see the old file or the whole
    /// new one, and a file that was readable by others is replaced, not rewritten in place.
    ///
    /// - Important: the image encodes the enrollment secret. Put it where only the enrolling user can read it
    ///   and delete it after it has been scanned.
    /// - Throws: ``QRCodeError/Code/io`` naming the path and the system error.
    public func writePNG(to path: String, scale: Int = 8, quietZone: Int = 4) throws(QRCodeError) {
        let bytes = pngData(scale: scale, quietZone: quietZone)
        guard !path.isEmpty else { throw QRCodeError(.io, "cannot write the PNG: the path is empty") }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = "\(path).\(suffix).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw QRCodeError(.io, "cannot create \(path): \(Self.errnoText())")
        }
        var failure: String? = nil
        // The umask can only take permissions away; make the mode exactly 0600.
        if fchmod(fd, 0o600) != 0 { failure = "cannot set the mode of \(path): \(Self.errnoText())" }
        if failure == nil {
            bytes.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = "cannot write \(path): \(Self.errnoText())"
                        return
                    }
                    written += n
                }
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "cannot flush \(path): \(Self.errnoText())" }
        if close(fd) != 0, failure == nil { failure = "cannot close \(path): \(Self.errnoText())" }
        if failure == nil, rename(temporary, path) != 0 {
            failure = "cannot create \(path): \(Self.errnoText())"
        }
        if let failure {
            unlink(temporary)
            throw QRCodeError(.io, failure)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
