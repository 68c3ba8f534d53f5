import Foundation
import OTP
import Testing
import TokenDevices
import VirtualTokens

@Suite("YKOATH card state files")
struct YKOATHCardStateTests {
    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ykoath-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("card.json").path
    }

    @Test("save writes mode 0600 JSON with hex keys; load gives the same state")
    func roundTrip() throws {
        let path = try Self.temporaryPath()
        var state = YKOATHCardState(version: [5, 7, 1])
        state.passwordKey = bytes("c40541c4ccaeef4dc686a9a42211f170")
        state.credentials = [
            .init(name: Array("60/Iss:acct".utf8), type: .totp, algorithm: .sha512, digits: 8, key: (0..<128).map { UInt8($0) }),
            .init(name: [0xFF, 0x00, 0x41], type: .hotp, algorithm: .sha1, digits: 6, key: Array("12345678901234567890".utf8),
                  counter: 1 << 40, requireTouch: true, onlyIncreasing: true),
        ]
        try state.save(to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"keyHex\" : \"3132333435363738393031323334353637383930\""))
        #expect(text.contains("\"passwordKeyHex\" : \"c40541c4ccaeef4dc686a9a42211f170\""))
        #expect(text.contains("\"version\" : \"5.7.1\""))
        #expect(text.contains("\"name\" : \"60/Iss:acct\""))
        #expect(try YKOATHCardState.load(from: path) == state)
        // Saving again replaces the file and leaves no temporary files behind.
        try state.save(to: path)
        let directory = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["card.json"])
    }

    @Test("missing, unreadable and invalid files are typed errors")
    func badFiles() throws {
        let path = try Self.temporaryPath()
        #expect(throws: VirtualTokenError(.stateFileIO, "")) { try YKOATHCardState.load(from: path) }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: VirtualTokenError(.invalidState, "")) { try YKOATHCardState.load(from: path) }
        let wrongDigits = """
            {"format":1,"version":"5.4.3","saltHex":"0011223344556677","passwordAlgorithm":"sha1",
             "credentials":[{"nameHex":"41","type":"totp","algorithm":"sha1","digits":9,"keyHex":"00"}]}
            """
        try Data(wrongDigits.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: VirtualTokenError(.invalidState, "")) { try YKOATHCardState.load(from: path) }
        #expect(throws: VirtualTokenError(.stateFileIO, "")) {
            try YKOATHCardState().save(to: "/nonexistent-directory/card.json")
        }
    }

    @Test("the applet reports every change; a reloaded card continues the HOTP counter")
    func persistenceThroughApplet() throws {
        let path = try Self.temporaryPath()
        let saves = Recorder<Int>()
        let applet = YKOATHApplet(state: YKOATHCardState()) { state in
            try? state.save(to: path)
            saves.append(state.credentials.count)
        }
        let card = TestCard(applet: applet)
        card.select()
        card.put("hot", type: 0x10, key: Array("12345678901234567890".utf8), counter: 3)
        #expect(codeString(fromTruncated: card.calculate("hot", challenge: []).data) == "969429")
        card.send(apdu(0xA1))  // LIST changes nothing
        #expect(saves.items == [1, 1])

        let reloaded = TestCard(applet: YKOATHApplet(state: try YKOATHCardState.load(from: path)))
        reloaded.select()
        #expect(codeString(fromTruncated: reloaded.calculate("hot", challenge: []).data) == "338314")
        #expect(reloaded.applet.state.salt == applet.state.salt)
    }
}

extension TestCard {
    init(applet: YKOATHApplet) { self.applet = applet }
}
