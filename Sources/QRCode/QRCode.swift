import CQREncode

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A QR code symbol (ISO/IEC 18004), encoded by libqrencode, for showing `otpauth://` enrollment URIs.
///
/// The symbol is a square of ``size`` × ``size`` modules; ``isDark(x:y:)`` reads one module. Render it with
/// ``terminalString(quietZone:inverted:)`` or ``pngData(scale:quietZone:)``, or save it with
/// ``writePNG(to:scale:quietZone:)``.
///
/// - Important: an enrollment QR code encodes the shared secret. Anyone who sees or copies it can
///   generate valid codes. Show it once, to the person enrolling; never log it, never keep the image
///   around. The value keeps only the module matrix (not the text), and its `description` and mirror
///   show only the version and size, but the matrix itself is the secret in another form.
public struct QRCode: Sendable, CustomStringConvertible, CustomReflectable {
    /// How much of the symbol may be damaged and still decode (more correction makes a larger symbol).
    public enum ErrorCorrection: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// About 7% of codewords can be restored.
        case low
        /// About 15% of codewords can be restored (the usual choice for screens).
        case medium
        /// About 25% of codewords can be restored.
        case quartile
        /// About 30% of codewords can be restored.
        case high

        public var description: String {
            switch self {
            case .low: "L"
            case .medium: "M"
            case .quartile: "Q"
            case .high: "H"
            }
        }

        /// Bytes of arbitrary 8-bit data that fit in a version-40 symbol at this level.
        /// (Text with runs of digits or upper-case letters can be a little longer: those are packed tighter.)
        public var maximumByteCount: Int {
            switch self {
            case .low: 2953
            case .medium: 2331
            case .quartile: 1663
            case .high: 1273
            }
        }

        var cLevel: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// Modules per side (21 for version 1, up to 177 for version 40). The quiet zone is not included.
    public let size: Int
    /// The symbol version libqrencode chose: 1...40, the smallest that holds the text.
    public let version: Int
    /// The error correction level the symbol was encoded with.
    public let errorCorrection: ErrorCorrection
    /// Row-major, `size * size` entries, true for dark modules.
    private let modules: [Bool]

    /// Encodes `text` (its UTF-8 bytes, case preserved) into the smallest QR code that holds it.
    ///
    /// libqrencode's `QRcode_encodeString` with hint `QR_MODE_8` and case sensitivity on: every byte is
    /// kept as is, and runs of digits or `0-9A-Z $%*+-./:` are packed in numeric or alphanumeric mode
    /// (an `otpauth://` URI's Base32 secret is one), so the symbol is no larger than pure 8-bit mode.
    /// No ECI header is written; readers take the bytes as UTF-8 or ISO 8859-1 by guessing, which does not
    /// matter for `otpauth://` URIs: they are ASCII (non-ASCII is percent-encoded).
    ///
    /// - Throws: ``QRCodeError/Code/tooLong`` when the text does not fit in a version-40 symbol at
    ///   `errorCorrection`; ``QRCodeError/Code/encodingFailed`` for empty text, text containing a NUL
    ///   character (the C API takes NUL-terminated strings), or a libqrencode failure.
    public init(encoding text: String, errorCorrection: ErrorCorrection = .medium) throws(QRCodeError) {
        let byteCount = text.utf8.count
        guard byteCount > 0 else {
            throw QRCodeError(.encodingFailed, "cannot encode an empty text in a QR code")
        }
        if let position = text.utf8.firstIndex(of: 0) {
            let offset = text.utf8.distance(from: text.utf8.startIndex, to: position)
            throw QRCodeError(.encodingFailed, "the text contains a NUL character (at byte \(offset)), which libqrencode cannot encode")
        }
        let tooLong = QRCodeError(
            .tooLong,
            "the text is \(byteCount) bytes, too long for a QR code at error correction level \(errorCorrection) "
                + "(the largest symbol, version 40, holds about \(errorCorrection.maximumByteCount) bytes at this level"
                + (errorCorrection == .low ? ")" : ", \(ErrorCorrection.low.maximumByteCount) at level L)"))
        // Fail fast on texts that cannot fit whatever the modes (3 digits pack into 10 bits at best),
        // without asking libqrencode to try.
        guard byteCount <= 7089 else { throw tooLong }

        errno = 0
        guard let symbol = QRcode_encodeString(text, 0, errorCorrection.cLevel, QR_MODE_8, 1) else {
            let failure = errno
            if failure == ERANGE { throw tooLong }
            let reason = failure == 0 ? "unknown error" : String(cString: strerror(failure))
            throw QRCodeError(.encodingFailed, "libqrencode could not encode the text: \(reason)")
        }
        defer { QRcode_free(symbol) }
        let width = Int(symbol.pointee.width)
        guard width >= 21, width <= 177, (width - 17) % 4 == 0, let data = symbol.pointee.data else {
            throw QRCodeError(.encodingFailed, "libqrencode returned a malformed symbol (width \(width))")
        }
        // Bit 0 of each byte is the module colour (1 = dark); the other bits describe the module's role.
        let buffer = UnsafeBufferPointer(start: data, count: width * width)
        self.modules = buffer.map { $0 & 1 == 1 }
        self.size = width
        self.version = Int(symbol.pointee.version)
        self.errorCorrection = errorCorrection
    }

    /// Whether the module in column `x`, row `y` (origin top left) is dark.
    ///
    /// Coordinates outside `0..<size` are the quiet zone around the symbol, which is light: they return false.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// `QRCode(version V, N×N modules, error correction E)`: never the encoded text.
    public var description: String {
        "QRCode(version \(version), \(size)×\(size) modules, error correction \(errorCorrection))"
    }

    /// No children: the module matrix is the encoded secret in another form.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
