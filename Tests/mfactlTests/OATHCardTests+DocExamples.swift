import Foundation
import TestSupport
import Testing

/// The documentation's examples that need the virtual card, run in this serialized suite (one card
/// in the vpcd reader at a time); `DocExamplesTests` lists them.
extension OATHCardTests {
    @Test("README `mfactl oath`: devices list, put and code run as shown; the code is oathtool's")
    func readmeOATH() async throws {
        let lines = try DocPages.block("readme-oath").commands
        try #require(lines.count == 3, "\(lines)")
        let card = try await VirtualCard()
        defer { _ = card }
        let shell = DocShell(directory: card.home)
        let devices = try await shell.run(lines[0])
        #expect(devices.stdout.contains(VirtualCard.reader), "\(devices.stdout)")
        try await shell.run(lines[1])
        let before = unixNow
        let code = try await shell.run(lines[2])
        let expected = try await oathtoolTOTP("JBSWY3DPEHPK3PXP", times: [before, unixNow])
        #expect(expected.contains { code.stdout.contains("Example:alice\t\($0)") }, "\(code.stdout) vs oathtool \(expected)")
        await card.stop()
    }

    @Test("Docs/oath.md: the virtual card example inserts a card that ykman and mfactl list")
    func oathVirtualCard() async throws {
        let lines = try DocPages.block("oath-virtual-card").commands
        try #require(lines.count == 4, "\(lines)")
        try await VirtualCard.waitForCard(present: false)
        let directory = try LocalStore.freshDirectory("mfa-doc-card")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shell = DocShell(directory: directory, environment: ["HOME": directory.path])
        defer { shell.stopBackground() }
        try await shell.run(lines[0], replacing: [("scripts/start-pcscd.sh", TestTools.packageRoot.appendingPathComponent("scripts/start-pcscd.sh").path)])
        try await shell.run(lines[1])
        try await VirtualCard.waitForCard(present: true)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("card.json").path))
        let ykman = try await shell.run(lines[2])
        #expect(ykman.stderr.isEmpty || !ykman.stderr.contains("rror"), "\(ykman.stderr)")
        try await shell.run(lines[3])
        shell.stopBackground()
        try await VirtualCard.waitForCard(present: false)
    }

    @Test("Docs/token-emulator.md: ykman reads the emulated card as shown; its code is oathtool's")
    func tokenEmulatorYkman() async throws {
        let lines = try DocPages.block("token-emulator-ykman").commands
        try #require(lines.count == 6, "\(lines)")
        // `pcscd -f &` is for a machine where pcscd does not run yet; here it runs (with vpcd).
        #expect(lines[0].hasPrefix("pcscd -f &"))
        try VirtualCard.requirePCSCD()
        try await VirtualCard.waitForCard(present: false)
        let directory = try LocalStore.freshDirectory("mfa-doc-emulator")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shell = DocShell(directory: directory)
        defer { shell.stopBackground() }
        try await shell.run(lines[1], replacing: [("/tmp/card.json", directory.appendingPathComponent("card.json").path)])
        try await VirtualCard.waitForCard(present: true)
        try await shell.run(lines[2], replacing: [("$(mktemp -d)", directory.path)])
        let info = try await shell.run(lines[3])
        #expect(info.stdout.contains("OATH version"), "\(info.stdout)")
        try await shell.run(lines[4])
        let before = unixNow
        let codes = try await shell.run(lines[5])
        let expected = try await oathtoolTOTP("JBSWY3DPEHPK3PXP", times: [before, unixNow])
        #expect(expected.contains { codes.stdout.contains("test") && codes.stdout.contains($0) }, "\(codes.stdout) vs oathtool \(expected)")
        shell.stopBackground()
        try await VirtualCard.waitForCard(present: false)
    }
}
