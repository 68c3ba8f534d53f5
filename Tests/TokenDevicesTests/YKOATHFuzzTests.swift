import OTP
import TestSupport
import Testing
import TokenDevices
import VirtualTokens

/// Random input must never trap and must always get a status word.
@Suite("YKOATH applet: fuzzing")
struct YKOATHFuzzTests {
    static let instructions: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5]
    static let tags: [UInt8] = [0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C]

    /// A command that looks like YKOATH: a known INS, plausible P1/P2, TLV-ish data with random lengths.
    static func structured(_ rng: inout SeededGenerator) -> [UInt8] {
        let ins = instructions.randomElement(using: &rng)!
        let p1: UInt8 = [0x00, 0x04, 0xDE, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
        let p2: UInt8 = [0x00, 0x01, 0xAD, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
        var data: [UInt8] = []
        if ins == 0xA4 && p1 == 0x04 && Bool.random(using: &rng) { data = oathAID }
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let tag = Bool.random(using: &rng) ? tags.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            let length = Int.random(in: 0...40, using: &rng)
            let declared: [UInt8] = switch Int.random(in: 0...5, using: &rng) {
            case 0: [0x81, UInt8(length)]
            case 1: [0x82, 0x00, UInt8(length)]
            case 2: [UInt8.random(in: 0...255, using: &rng)]
            default: [UInt8(length)]
            }
            data += [tag] + declared + (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        data = Array(data.prefix(255))
        return [0x00, ins, p1, p2, UInt8(data.count)] + data
    }

    static func raw(_ rng: inout SeededGenerator) -> [UInt8] {
        (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    @Test("thousands of random and YKOATH-shaped APDUs, in every mode", arguments: [nil] + HostileBehaviour.allCases.map(Optional.some))
    func randomAPDUs(hostile: HostileBehaviour?) {
        let seed = SeededGenerator.seedFromEnvironment()
        var rng = SeededGenerator(seed: seed)
        let setup = TestCard()
        setup.select()
        setup.put("seed", key: Array(repeating: 1, count: 14))
        setup.put("hot", type: 0x10, key: Array(repeating: 2, count: 14), touch: true)
        let options = YKOATHApplet.Options(
            touchPolicy: Bool.random(using: &rng) ? .approve : .timeout, hostile: hostile, credentialLimit: 8)
        let card = TestCard(options, state: setup.applet.state)
        card.select()
        let minimum = hostile == .shortResponse ? 1 : 2
        for round in 0..<3000 {
            switch round % 50 {
            case 0: card.select()
            case 25: card.applet.powerCycle()
            default: break
            }
            let command = round.isMultiple(of: 3) ? Self.raw(&rng) : Self.structured(&rng)
            let response = card.applet.process(command)
            #expect(response.count >= minimum, "seed \(seed), round \(round): \(Hex.encode(command))")
            if response.count < minimum { return }
        }
        // The card still works afterwards.
        card.applet.powerCycle()
        let select = card.applet.process(apdu(0xA4, 0x04, 0x00, oathAID))
        #expect(select.count >= minimum)
    }

    @Test("random bytes on a password-protected card never unlock it")
    func lockedFuzz() {
        let seed = SeededGenerator.seedFromEnvironment()
        var rng = SeededGenerator(seed: seed)
        var state = YKOATHCardState()
        state.passwordKey = Array(repeating: 0x42, count: 16)
        let card = TestCard(state: state)
        for round in 0..<3000 {
            if round % 20 == 0 { card.select() }
            var command = Self.structured(&rng)
            if command[1] == 0x04 && command[2] == 0xDE && command[3] == 0xAD { command[3] = 0xAE }  // no RESET
            let answer = card.send(command)
            #expect(answer.sw != 0x9000 || [0xA3, 0xA4, 0xA5].contains(command[1]), "seed \(seed): \(Hex.encode(command))")
        }
        card.select()
        #expect(card.send(apdu(0xA1)).sw == 0x6982)
        #expect(card.applet.state.passwordKey == Array(repeating: 0x42, count: 16))
    }
}
