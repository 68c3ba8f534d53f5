import Foundation
import OTP
import QRCode
import TestSupport
import Testing

// The example of Docs/qr.md, compiled and run here; `DocExamplesTests.qrSwift` (mfactlTests) checks
// that the page shows exactly the code between the markers.
// doc: qr-swift begin
/// A new TOTP secret's enrollment QR code: for dark and light terminals, and as a PNG file.
func enrollmentQR(account: String, png path: String) throws -> (dark: String, light: String) {
    let uri = try OTPAuthURI(type: .totp, issuer: "Example Corp", account: account,
                             secret: OTPSecret.random(byteCount: 20))
    let code = try QRCode(encoding: uri.uriString)     // error correction .medium by default
    try code.writePNG(to: path)                         // mode 0600
    return (code.terminalString(), code.terminalString(inverted: true))
}
// doc: qr-swift end

@Suite("Docs/qr.md's example")
struct DocExampleTests {
    @Test("the documented function writes a 0600 PNG that zbarimg reads as the enrollment URI, and two terminal renderings")
    func documentedExample() throws {
        let zbarimg = try #require(TestTools.which("zbarimg"), "zbarimg is not installed (Debian package zbar-tools)")
        try QRTestSupport.withTemporaryDirectory { directory in
            let path = directory + "/enroll.png"
            let (dark, light) = try enrollmentQR(account: "alice@example.com", png: path)
            #expect(dark != light && dark.split(separator: "\n").count > 20)
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let read = try TestTools.run(zbarimg, ["--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", path], timeout: 60)
            #expect(read.stdout.hasPrefix("otpauth://totp/Example%20Corp:alice@example.com?secret="), "\(read.stdout)")
        }
    }
}
