import QRCode
import Testing

/// The half-block terminal rendering: its shape, its alphabet, and a faithful round trip to the module matrix.
@Suite("Terminal rendering with half blocks")
struct TerminalRenderingTests {
    static let alphabet: Set<Character> = ["▀", "▄", "█", " "]

    /// Reads a rendering back into module colours (true = dark), `2 * lines` rows of `width` modules.
    static func parse(_ text: String, inverted: Bool) throws -> [[Bool]] {
        var rows: [[Bool]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var top: [Bool] = []
            var bottom: [Bool] = []
            for character in line {
                let ink: (Bool, Bool)
                switch character {
                case "█": ink = (true, true)
                case "▀": ink = (true, false)
                case "▄": ink = (false, true)
                case " ": ink = (false, false)
                default: throw ParseError(character: character)
                }
                // Ink is light modules on dark terminals (default), dark modules on light ones (inverted).
                top.append(ink.0 == inverted)
                bottom.append(ink.1 == inverted)
            }
            rows.append(top)
            rows.append(bottom)
        }
        return rows
    }

    struct ParseError: Error, CustomStringConvertible {
        let character: Character
        var description: String { "unexpected character U+\(String(character.unicodeScalars.first!.value, radix: 16))" }
    }

    // Symbols are always an odd number of modules wide, so the last line has one row of padding below.
    static let texts = [
        "otpauth://totp/Example%20Corp:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Corp",
        "hello",  // version 1, 21 modules
        String(repeating: "otpauth ", count: 60),
    ]

    @Test("shape: ceil(side / 2) lines, all side characters wide, only half blocks and spaces",
          arguments: texts, [0, 1, 2, 4])
    func shape(text: String, quietZone: Int) throws {
        let code = try QRCode(encoding: text)
        let side = code.size + 2 * quietZone
        for inverted in [false, true] {
            let rendering = code.terminalString(quietZone: quietZone, inverted: inverted)
            #expect(!rendering.hasSuffix("\n"))
            let lines = rendering.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == (side + 1) / 2)
            #expect(lines.allSatisfy { $0.count == side })
            #expect(rendering.allSatisfy { $0 == "\n" || Self.alphabet.contains($0) })
            // Each character is one column: the count in Unicode scalars matches the count in characters.
            #expect(lines.allSatisfy { $0.unicodeScalars.count == side })
        }
    }

    @Test("round trip: parsing the rendering gives back isDark for every module, quiet zone light",
          arguments: texts, [0, 1, 2, 3])
    func roundTrip(text: String, quietZone: Int) throws {
        let code = try QRCode(encoding: text)
        let side = code.size + 2 * quietZone
        for inverted in [false, true] {
            let rows = try Self.parse(code.terminalString(quietZone: quietZone, inverted: inverted), inverted: inverted)
            #expect(rows.count == side + side % 2)
            var mismatches = 0
            for y in 0..<rows.count {
                #expect(rows[y].count == side)
                for x in 0..<side where rows[y][x] != code.isDark(x: x - quietZone, y: y - quietZone) {
                    mismatches += 1
                }
            }
            #expect(mismatches == 0, "\(mismatches) modules differ (inverted: \(inverted), quiet zone \(quietZone))")
        }
    }

    @Test("default is for dark terminals: the quiet zone is drawn with ink; inverted leaves it blank")
    func polarity() throws {
        let code = try QRCode(encoding: "hello")
        let dark = code.terminalString()
        let light = code.terminalString(inverted: true)
        let darkFirst = dark.split(separator: "\n")[0]
        let lightFirst = light.split(separator: "\n")[0]
        #expect(darkFirst.allSatisfy { $0 == "█" })
        #expect(lightFirst.allSatisfy { $0 == " " })
        // Inverting swaps ink and background in every cell.
        let swap: [Character: Character] = ["█": " ", " ": "█", "▀": "▄", "▄": "▀", "\n": "\n"]
        #expect(String(dark.map { swap[$0]! }) == light)
        #expect(code.terminalString() == code.terminalString(quietZone: 2, inverted: false))
    }

    @Test("isDark outside the symbol is light (quiet zone)")
    func outside() throws {
        let code = try QRCode(encoding: "hello")
        #expect(code.size == 21 && code.version == 1)
        #expect(!code.isDark(x: -1, y: 0) && !code.isDark(x: 0, y: -1))
        #expect(!code.isDark(x: code.size, y: 0) && !code.isDark(x: 0, y: code.size))
        // The finder pattern's corners are dark.
        #expect(code.isDark(x: 0, y: 0) && code.isDark(x: code.size - 1, y: 0) && code.isDark(x: 0, y: code.size - 1))
    }
}
