import Foundation
import OTP
import QRCode
import TestSupport
import Testing

/// Shared by the QR code tests: temporary files, zbarimg, and URIs made by the OTP module.
enum QRTestSupport {
    /// A fresh directory under the system temporary directory, removed by `body`'s caller through `defer`.
    static func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory.path)
    }

    /// The text zbarimg (Debian zbar-tools) reads from a PNG of `code`, exactly as printed (one symbol).
    static func zbarDecode(_ code: QRCode, scale: Int = 8, quietZone: Int = 4) throws -> String {
        let zbarimg = try #require(TestTools.which("zbarimg"), "zbarimg is not installed (Debian package zbar-tools)")
        return try withTemporaryDirectory { directory in
            let path = directory + "/code.png"
            try code.writePNG(to: path, scale: scale, quietZone: quietZone)
            // QR codes only: with every symbology on, zbar sometimes also "finds" a 1D barcode in the
            // modules (a Codabar "D297A" was seen), which would be printed as a second line.
            let result = try TestTools.run(
                zbarimg, ["--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", path], timeout: 60)
            #expect(result.status == 0, "zbarimg failed (\(result.status)): \(result.stderr)")
            // --raw prints each symbol's data followed by one newline.
            var text = result.stdout
            #expect(text.hasSuffix("\n"), "zbarimg output does not end with a newline")
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
    }

    /// A TOTP/HOTP enrollment URI with a fresh random secret, as the service would show it.
    static func enrollmentURI(
        type: OTPType = .totp, issuer: String? = "Example Corp", account: String = "alice@example.com",
        secretBytes: Int = 20, algorithm: HashAlgorithm = .sha1, digits: Int = 6, period: Int64 = 30,
        counter: UInt64 = 0
    ) throws -> OTPAuthURI {
        try OTPAuthURI(
            type: type, issuer: issuer, account: account, secret: OTPSecret.random(byteCount: secretBytes),
            algorithm: algorithm, digits: digits, period: period, counter: counter)
    }
}
