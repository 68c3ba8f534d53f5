import Testing
import TokenDevices

/// A scripted card: answers each command from a queue and records what it was sent.
final class ScriptedCard: APDUTransport {
    var answers: [ResponseAPDU]
    var sent: [CommandAPDU] = []
    init(_ answers: [ResponseAPDU]) { self.answers = answers }
    func transmit(_ command: CommandAPDU) throws -> ResponseAPDU {
        sent.append(command)
        return answers.isEmpty ? ResponseAPDU(status: StatusWord(rawValue: 0x6F00)) : answers.removeFirst()
    }
}

@Suite("Response chaining: ISO GET RESPONSE and YKOATH SEND REMAINING")
struct ResponseChainingTests {
    @Test("ISO cards: GET RESPONSE (C0) with Le = SW2, 00 meaning 256")
    func isoGetResponse() throws {
        let card = ScriptedCard([
            ResponseAPDU(data: [1, 2], status: StatusWord(0x61, 0x00)),
            ResponseAPDU(data: [3], status: StatusWord(0x61, 0x02)),
            ResponseAPDU(data: [4, 5], status: .success),
        ])
        let response = try ResponseChaining.transmit(CommandAPDU(cla: 0x00, ins: 0xCA, p1: 0x9F, p2: 0x7F), over: card)
        #expect(response.data == [1, 2, 3, 4, 5] && response.status == .success)
        #expect(card.sent.dropFirst().map(\.ins) == [0xC0, 0xC0])
        #expect(card.sent[1].le == 256 && card.sent[2].le == 2)
        #expect(try card.sent[2].encoded() == [0x00, 0xC0, 0x00, 0x00, 0x02])
    }

    @Test("YKOATH: SEND REMAINING (A5) without Le; a card that never stops is cut off")
    func sendRemainingAndOverflow() throws {
        let card = ScriptedCard([ResponseAPDU(data: [9], status: StatusWord(0x61, 0x10)), ResponseAPDU(data: [8], status: .success)])
        let response = try ResponseChaining.transmit(CommandAPDU(ins: 0xA1), over: card, remainingINS: 0xA5)
        #expect(response.data == [9, 8] && card.sent[1].ins == 0xA5 && card.sent[1].le == nil)
        let endless = ScriptedCard(Array(repeating: ResponseAPDU(data: [0], status: StatusWord(0x61, 0xFF)), count: 20))
        #expect(throws: SmartcardError(.chainingOverflow, "")) {
            try ResponseChaining.transmit(CommandAPDU(ins: 0xA1), over: endless, remainingINS: 0xA5, maximumChunks: 10)
        }
    }
}
