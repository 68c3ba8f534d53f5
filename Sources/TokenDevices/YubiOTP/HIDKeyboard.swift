/// Turns HID boot-keyboard input reports (`[modifiers, reserved, key1…key6]`) into text, the way a
/// YubiKey "types" an OTP (US layout usage codes, HID Usage Tables §10).
public struct HIDKeyboardDecoder: Sendable {
    /// Characters typed so far (Enter ends a line and is not included).
    public private(set) var text = ""
    /// Whether Enter was seen.
    public private(set) var finished = false
    /// Usage codes that map to no character (reported, never guessed).
    public private(set) var unknownUsages: [UInt8] = []
    private var previous: Set<UInt8> = []

    public init() {}

    /// Feeds one report. A key counts when it appears (press), not while it is held.
    public mutating func feed(_ report: [UInt8]) {
        guard report.count >= 3, !finished else { return }
        let shift = report[0] & 0x22 != 0
        let keys = Set(report[2...].filter { $0 > 3 })
        for usage in report[2...] where usage > 3 && !previous.contains(usage) {
            if usage == 0x28 || usage == 0x58 {
                finished = true
                break
            }
            if let character = Self.character(usage, shift: shift) {
                text.append(character)
            } else {
                unknownUsages.append(usage)
            }
        }
        previous = keys
    }

    /// The character of `usage` on a US layout.
    public static func character(_ usage: UInt8, shift: Bool) -> Character? {
        switch usage {
        case 0x04...0x1D:
            let scalar = Unicode.Scalar((shift ? 0x41 : 0x61) + UInt32(usage - 0x04))!
            return Character(scalar)
        case 0x1E...0x26:
            if shift { return Array("!@#$%^&*(")[Int(usage - 0x1E)] }
            return Character(Unicode.Scalar(0x31 + UInt32(usage - 0x1E))!)
        case 0x27: return shift ? ")" : "0"
        case 0x2B: return "\t"
        case 0x2C: return " "
        case 0x2D: return shift ? "_" : "-"
        default: return nil
        }
    }

    /// The usage code and shift state that type `character` (for emulators and tests).
    public static func usage(for character: Character) -> (usage: UInt8, shift: Bool)? {
        for usage in UInt8(0x04)...UInt8(0x2D) {
            if Self.character(usage, shift: false) == character { return (usage, false) }
            if Self.character(usage, shift: true) == character { return (usage, true) }
        }
        return nil
    }
}
