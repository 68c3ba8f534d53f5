import TokenDevices
import OTP

/// Ways a ``YKOATHApplet`` can misbehave on purpose, to test how a host copes with a broken card.
///
/// In every mode SELECT of a foreign AID answers 6A82, and SELECT of the OATH AID answers version, salt
/// and (with a password) challenge as usual, so a client gets past the selection; only
/// ``truncatedSelect`` spoils the SELECT answer. Commands still do their work (PUT stores, HOTP counters
/// advance, RESET wipes); only their answers are rewritten:
///
/// - ``truncatedTLV``: the last TLV of every answer with data, after SELECT, declares 2 more bytes than
///   it carries (the answer's last 2 bytes are dropped; SW stays 9000). This hits LIST (last `72`
///   entry), CALCULATE (`76 05` followed by 3 bytes), CALCULATE ALL (its last entry) and VALIDATE
///   (`75 14` with 18 bytes). Answers without data are unchanged.
/// - ``truncatedSelect``: SELECT of the OATH AID answers the usual elements followed by `7B 04 01`
///   (declares 4 bytes, carries 1); version and salt are intact, so a lenient parser gets going. All
///   other commands are normal.
/// - ``shortResponse``: every command after SELECT is answered with the single byte `90`: no valid
///   status word (vpcd forwards it verbatim).
/// - ``oddStatus``: every command after SELECT gets an unexpected status word, in turn per session:
///   `6F00` (no data), `6A88` (no data), then `9001` with the first 255 bytes of the real data; and
///   again from `6F00`. The order restarts at every SELECT and power cycle.
/// - ``endlessChaining``: LIST and CALCULATE ALL (when they would succeed) answer 16 random bytes with
///   `61FF`, and so does every SEND REMAINING after them: the chain never ends. Other commands are
///   normal.
/// - ``garbageTLV``: every command after SELECT is answered with 1...48 random bytes and `9000`.
/// - ``wrongDigits``: code responses carry 0x0F (15) as their digits byte: `76 05 0F ...` for
///   truncated codes (CALCULATE P2=01 and CALCULATE ALL) and `75 len 0F ...` for full ones. The HMAC
///   bytes are correct.
public enum HostileBehaviour: String, Sendable, Hashable, CaseIterable {
    case truncatedTLV
    case truncatedSelect
    case shortResponse
    case oddStatus
    case endlessChaining
    case garbageTLV
    case wrongDigits
}

extension YKOATHApplet {
    /// The status words of ``HostileBehaviour/oddStatus``, in order.
    static let oddStatusWords: [StatusWord] = [
        .noPreciseDiagnosis, StatusWord(rawValue: 0x6A88), StatusWord(rawValue: 0x9001),
    ]

    /// Turns a command's answer into response bytes: hostile rewriting (if any), then chaining.
    func finish(_ reply: Reply, for command: CommandAPDU) -> [UInt8] {
        switch options.hostile {
        case nil, .wrongDigits, .truncatedSelect:
            // wrongDigits and truncatedSelect are applied where the elements are built.
            return chained(reply)
        case .truncatedTLV:
            var reply = reply
            if reply.data.count >= 3 { reply.data.removeLast(2) }
            return chained(reply)
        case .shortResponse:
            return [0x90]
        case .oddStatus:
            let status = Self.oddStatusWords[session.oddStatusIndex % Self.oddStatusWords.count]
            session.oddStatusIndex += 1
            let data = status.rawValue == 0x9001 ? Array(reply.data.prefix(Self.chunkSize)) : []
            return data + status.bytes
        case .endlessChaining:
            let chainable = command.ins == OATHProtocol.Instruction.list
                || (command.ins == OATHProtocol.Instruction.calculateAll && command.p1 == 0x00)
            guard chainable, reply.status == .success else { return chained(reply) }
            session.endlessChain = true
            return LibCrypto.randomBytes(16) + [0x61, 0xFF]
        case .garbageTLV:
            let count = Int.random(in: 1...48)
            return LibCrypto.randomBytes(count) + StatusWord.success.bytes
        }
    }
}
