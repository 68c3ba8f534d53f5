import OTP
#if canImport(Glibc)
import Glibc
#endif

/// How long the OTP protocol waits for the key.
public struct YubiOTPTimeouts: Sendable {
    /// For the write flag to clear before each chunk, and for a response without touch.
    public var device: Duration
    /// For a touch, while the key shows the touch-pending flag.
    public var touch: Duration
    /// Between two polls of the key's state.
    public var poll: Duration

    public init(device: Duration = .seconds(2), touch: Duration = .seconds(15), poll: Duration = .milliseconds(10)) {
        self.device = device
        self.touch = touch
        self.poll = poll
    }
}

/// The YubiKey OTP-interface protocol over 8-byte feature reports: status, serial number, slot
/// programming and HMAC-SHA1 challenge-response. Synchronous; run it on the ``USBClient`` thread.
public final class YubiOTPSession {
    let transport: any YubiOTPTransport
    public let timeouts: YubiOTPTimeouts
    /// The status read when the session started, updated after each command.
    public private(set) var status: YubiOTPStatus

    static let serialCommand: UInt8 = 0x10

    public init(transport: any YubiOTPTransport, timeouts: YubiOTPTimeouts = YubiOTPTimeouts()) throws(YubiOTPError) {
        self.transport = transport
        self.timeouts = timeouts
        status = YubiOTPStatus(firmwareMajor: 0, firmwareMinor: 0, firmwarePatch: 0, programmingSequence: 0, touchLevel: 0)
        status = try readStatus()
    }

    /// Reads the status report again.
    public func readStatus() throws(YubiOTPError) -> YubiOTPStatus {
        let report = try read()
        status = try YubiOTPStatus(report: report)
        return status
    }

    /// The serial number (command 0x10: 4 bytes big-endian).
    public func serialNumber() throws(YubiOTPError) -> UInt32 {
        let answer = try exchange(slot: Self.serialCommand, payload: [], responseLength: 4, touchAllowed: false)
        return answer.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Writes `configuration` to `slot`. `accessCode` is the slot's current access code (6 bytes),
    /// when it has one. Throws ``YubiOTPError/Code/writeRejected`` when the key keeps its programming
    /// sequence (wrong access code, protected slot).
    public func configure(_ slot: YubiOTPSlot, _ configuration: YubiOTPSlotConfiguration, accessCode: [UInt8]? = nil) throws(YubiOTPError) {
        try writeConfiguration(slot, record: configuration.bytes, accessCode: accessCode)
    }

    /// Erases `slot` (an all-zero record).
    public func deleteSlot(_ slot: YubiOTPSlot, accessCode: [UInt8]? = nil) throws(YubiOTPError) {
        try writeConfiguration(slot, record: [UInt8](repeating: 0, count: YubiOTPSlotConfiguration.size), accessCode: accessCode)
    }

    /// HMAC-SHA1 of `challenge` (1–63 bytes) with the key in `slot`, which must be configured for
    /// HMAC challenge-response. A slot that requires touch answers after the touch (or
    /// ``YubiOTPError/Code/touchTimeout``).
    public func challengeResponse(_ slot: YubiOTPSlot, challenge: [UInt8]) throws(YubiOTPError) -> [UInt8] {
        let payload = try Self.padChallenge(challenge)
        return try exchange(slot: slot.hmacCommand, payload: payload, responseLength: 20, touchAllowed: true)
    }

    /// Pads a challenge to 64 bytes for HMAC_LT64 mode, where the key drops the trailing run of bytes
    /// equal to the last byte: the pad byte differs from the challenge's last byte, so the challenge
    /// itself survives intact. A 64-byte challenge would lose its own last byte(s), so challenges
    /// are at most 63 bytes.
    public static func padChallenge(_ challenge: [UInt8]) throws(YubiOTPError) -> [UInt8] {
        guard let last = challenge.last, challenge.count < 64 else {
            throw YubiOTPError(.invalidArgument, "an HMAC challenge is 1 to 63 bytes, got \(challenge.count)")
        }
        let pad: UInt8 = last == 0 ? 0xFF : 0x00
        return challenge + [UInt8](repeating: pad, count: 64 - challenge.count)
    }

    // MARK: - Protocol

    func writeConfiguration(_ slot: YubiOTPSlot, record: [UInt8], accessCode: [UInt8]?) throws(YubiOTPError) {
        let code = accessCode ?? [UInt8](repeating: 0, count: 6)
        guard code.count == 6 else { throw YubiOTPError(.invalidArgument, "an access code is 6 bytes, got \(code.count)") }
        let before = status.programmingSequence
        _ = try exchange(slot: slot.configureCommand, payload: record + code, responseLength: 0, touchAllowed: false)
        let after = try readStatus()
        // Accepted: the sequence moved on, or it went to 0 because no slot is configured any more.
        let accepted = after.programmingSequence != before || (after.programmingSequence == 0 && after.touchLevel & 0x03 == 0)
        guard accepted else {
            throw YubiOTPError(
                .writeRejected, "the key did not accept the configuration of slot \(slot.rawValue) (wrong access code, or the slot is protected)")
        }
    }

    /// Sends a frame and, when `responseLength` > 0, reads and checks the response.
    func exchange(slot: UInt8, payload: [UInt8], responseLength: Int, touchAllowed: Bool) throws(YubiOTPError) -> [UInt8] {
        let frame = try YubiOTPFrame(slot: slot, payload: payload)
        for report in frame.reports {
            try waitForWriteFlagClear()
            do throws(USBError) {
                try transport.writeReport(report)
            } catch {
                throw YubiOTPError(error)
            }
        }
        guard responseLength > 0 else {
            try waitForWriteFlagClear()
            return []
        }
        return try readResponse(length: responseLength, touchAllowed: touchAllowed)
    }

    func read() throws(YubiOTPError) -> [UInt8] {
        let report: [UInt8]
        do throws(USBError) {
            report = try transport.readReport()
        } catch where error == .shortTransfer {
            throw YubiOTPError(.shortReport, "the key sent a short feature report: \(error.description)", usb: error)
        } catch {
            throw YubiOTPError(error)
        }
        guard report.count == YubiOTPFrame.reportSize else {
            throw YubiOTPError(.shortReport, "the key sent a feature report of \(report.count) bytes, expected 8")
        }
        return report
    }

    func waitForWriteFlagClear() throws(YubiOTPError) {
        let deadline = ContinuousClock.now + timeouts.device
        while true {
            let report = try read()
            if report[7] & YubiOTPReportFlags.writeFlag == 0 { return }
            if ContinuousClock.now >= deadline {
                throw YubiOTPError(.timeout, "the key kept its write flag set for \(timeouts.device)")
            }
            pause()
        }
    }

    /// Reads response chunks (flag 0x40, sequence in the low bits) until the sequence wraps to 0
    /// after data, then resets the read state and checks the CRC over data and `~crc16`.
    func readResponse(length: Int, touchAllowed: Bool) throws(YubiOTPError) -> [UInt8] {
        var data: [UInt8] = []
        let needed = length + 2
        let start = ContinuousClock.now
        var touchSeen = false
        while true {
            let report = try read()
            let flags = report[7]
            if flags & YubiOTPReportFlags.responsePending != 0 {
                let sequence = Int(flags & YubiOTPReportFlags.sequenceMask)
                if sequence == 0 && !data.isEmpty { break }
                guard sequence * YubiOTPFrame.chunkSize == data.count else {
                    try? transport.writeReport(YubiOTPReportFlags.resetReport)
                    throw YubiOTPError(.unexpectedResponse, "the key sent response chunk \(sequence) out of order")
                }
                data += report[0..<YubiOTPFrame.chunkSize]
                if data.count > 64 {
                    try? transport.writeReport(YubiOTPReportFlags.resetReport)
                    throw YubiOTPError(.unexpectedResponse, "the key's response does not end")
                }
                continue
            }
            if flags & YubiOTPReportFlags.touchPending != 0 && touchAllowed {
                touchSeen = true
                if ContinuousClock.now - start >= timeouts.touch {
                    throw YubiOTPError(.touchTimeout, "nobody touched the key within \(timeouts.touch)")
                }
            } else if flags == 0 && !data.isEmpty {
                break
            } else if ContinuousClock.now - start >= timeouts.device && !touchSeen {
                throw YubiOTPError(.timeout, "no response from the key within \(timeouts.device)")
            } else if touchSeen && ContinuousClock.now - start >= timeouts.touch {
                throw YubiOTPError(.touchTimeout, "nobody touched the key within \(timeouts.touch)")
            }
            pause()
        }
        do throws(USBError) {
            try transport.writeReport(YubiOTPReportFlags.resetReport)
        } catch {
            throw YubiOTPError(error)
        }
        guard data.count >= needed else {
            throw YubiOTPError(.shortReport, "the key's response has \(data.count) bytes, expected at least \(needed)")
        }
        guard YubiCRC.check(data[0..<needed]) else {
            throw YubiOTPError(.crcMismatch, "the key's response failed its CRC check")
        }
        return Array(data[0..<length])
    }

    func pause() {
        let nanoseconds = timeouts.poll.components.attoseconds / 1_000_000_000 + timeouts.poll.components.seconds * 1_000_000_000
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        _ = nanosleep(&request, nil)
    }
}
