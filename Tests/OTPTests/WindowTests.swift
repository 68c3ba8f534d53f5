import OTP
import Testing

/// Window, watermark and resync edge cases.
@Suite("Verification windows and resync search")
struct WindowTests {
    static let secret = try! OTPSecret(bytes: Array("12345678901234567890".utf8))

    @Test("HOTP look-ahead: both edges match, one past the edge does not")
    func hotpEdges() throws {
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        let start: UInt64 = 500
        #expect(try hotp.verify(hotp.code(counter: start), counter: start, lookAhead: 10) == WindowMatch(counter: 500, offset: 0))
        #expect(try hotp.verify(hotp.code(counter: start + 10), counter: start, lookAhead: 10)?.offset == 10)
        #expect(try hotp.verify(hotp.code(counter: start + 11), counter: start, lookAhead: 10) == nil)
        #expect(try hotp.verify(hotp.code(counter: start - 1), counter: start, lookAhead: 10) == nil)
        #expect(try hotp.verify(hotp.code(counter: start), counter: start, lookAhead: 0)?.offset == 0)
    }

    @Test("the replay watermark excludes the last accepted counter and everything below it")
    func watermark() throws {
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        let code = hotp.code(counter: 105)
        #expect(try hotp.verify(code, counter: 100, lookAhead: 10, watermark: 104)?.counter == 105)
        #expect(try hotp.verify(code, counter: 100, lookAhead: 10, watermark: 105) == nil)
        #expect(try hotp.verify(code, counter: 100, lookAhead: 10, watermark: 200) == nil)

        let totp = try TOTP(secret: Self.secret, digits: 6, period: 30)
        let time: Int64 = 1_700_000_000
        let step = totp.step(at: time)
        let now = try totp.code(at: time)
        #expect(try totp.verify(now, at: time, window: 1, watermark: step - 1)?.offset == 0)
        #expect(try totp.verify(now, at: time, window: 1, watermark: step) == nil)
    }

    @Test("HOTP counters near 2^63 and 2^64: the window never wraps to 0")
    func counterWrap() throws {
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        let nearInt64 = UInt64(Int64.max) - 2
        #expect(try hotp.verify(hotp.code(counter: UInt64(Int64.max) + 1), counter: nearInt64, lookAhead: 10)?.offset == 3)
        let nearMax = UInt64.max - 2
        #expect(try hotp.verify(hotp.code(counter: UInt64.max), counter: nearMax, lookAhead: 10)?.counter == UInt64.max)
        // Counter 0's code must not be accepted from a window that would wrap past UInt64.max.
        let zero = hotp.code(counter: 0)
        let wrapped = try hotp.verify(zero, counter: nearMax, lookAhead: 10)
        #expect(wrapped == nil || wrapped!.counter >= nearMax)
        #expect(try hotp.resync(hotp.code(counter: UInt64.max), hotp.code(counter: 0), from: nearMax, window: 10) == nil)
    }

    @Test("TOTP with negative drift, positive drift, and steps before 1970 excluded")
    func drift() throws {
        let totp = try TOTP(secret: Self.secret, digits: 8, period: 60)
        let time: Int64 = 1_600_000_000
        let step = totp.step(at: time)
        // A token 5 steps slow: with drift -5 a code 5 steps back is the centre.
        let slow = totp.code(step: UInt64(step - 5))
        #expect(try totp.verify(slow, at: time, window: 1) == nil)
        #expect(try totp.verify(slow, at: time, window: 1, drift: -5) == WindowMatch(counter: UInt64(step - 5), offset: 0))
        #expect(try totp.verify(totp.code(step: UInt64(step - 6)), at: time, window: 1, drift: -5)?.offset == -1)
        #expect(try totp.verify(totp.code(step: UInt64(step + 4)), at: time, window: 1, drift: 3)?.offset == 1)
        // At time 10 with a window of 2, steps -2 and -1 do not exist; step 0 still matches.
        #expect(try totp.verify(totp.code(step: 0), at: 10, window: 2)?.counter == 0)
        #expect(throws: OTPError(.invalidTime, "")) { try totp.code(at: -1) }
        #expect(totp.step(at: -1) == -1)
        #expect(totp.step(at: -60) == -1)
        #expect(totp.step(at: -61) == -2)
    }

    @Test("TOTP prefers the step closest to the centre")
    func closestWins() throws {
        let totp = try TOTP(secret: Self.secret, digits: 6, period: 30)
        let time: Int64 = 1_500_000_000
        let step = totp.step(at: time)
        for offset in -3...3 {
            let match = try totp.verify(totp.code(step: UInt64(step + Int64(offset))), at: time, window: 3)
            #expect(match?.offset == Int64(offset))
        }
    }

    @Test("HOTP resync finds two consecutive codes far ahead; the order of the codes matters")
    func hotpResync() throws {
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        let c1 = hotp.code(counter: 7_321)
        let c2 = hotp.code(counter: 7_322)
        #expect(try hotp.resync(c1, c2, from: 1_000, window: 10_000) == ResyncMatch(counter: 7_321, offset: 6_321))
        #expect(try hotp.resync(c2, c1, from: 1_000, window: 10_000) == nil)
        #expect(try hotp.resync(c1, c2, from: 1_000, window: 6_321) == nil)  // i + 1 = 7 322 is past the window
        #expect(try hotp.resync(c1, c2, from: 1_000, window: 6_322)?.counter == 7_321)
        #expect(try hotp.resync(c1, c2, from: 1_000, window: 10_000, watermark: 7_321) == nil)
        #expect(try hotp.resync(c1, c2, from: 1_000, window: 0) == nil)
    }

    @Test("two equal adjacent codes (counters 910737 and 910738 of the RFC 4226 key, found with Python's hmac)")
    func equalAdjacentCodes() throws {
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        let code = try OTPCode(parsing: "911617", digits: 6)
        #expect(hotp.code(counter: 910_737) == code)
        #expect(hotp.code(counter: 910_738) == code)
        #expect(try hotp.resync(code, code, from: 900_000, window: 20_000)?.counter == 910_737)
        // The same code typed twice elsewhere is not a consecutive pair.
        let once = hotp.code(counter: 900_100)
        #expect(try hotp.resync(once, once, from: 900_000, window: 1_000) == nil)
    }

    @Test("TOTP resync searches both directions and picks the pair nearest now")
    func totpResync() throws {
        let totp = try TOTP(secret: Self.secret, digits: 6, period: 30)
        let time: Int64 = 1_700_000_000
        let step = totp.step(at: time)
        for drift: Int64 in [-2_000, -20, 20, 2_000] {
            let c1 = totp.code(step: UInt64(step + drift))
            let c2 = totp.code(step: UInt64(step + drift + 1))
            #expect(try totp.resync(c1, c2, at: time, window: 2_880) == ResyncMatch(counter: UInt64(step + drift), offset: drift))
        }
        let far1 = totp.code(step: UInt64(step + 3_000))
        let far2 = totp.code(step: UInt64(step + 3_001))
        #expect(try totp.resync(far1, far2, at: time, window: 2_880) == nil)
    }

    @Test("malformed parameters are typed errors")
    func badParameters() throws {
        #expect(throws: OTPError(.invalidDigits, "")) { try HOTP(secret: Self.secret, digits: 5) }
        #expect(throws: OTPError(.invalidDigits, "")) { try TOTP(secret: Self.secret, digits: 9) }
        #expect(throws: OTPError(.invalidPeriod, "")) { try TOTP(secret: Self.secret, period: 0) }
        let hotp = try HOTP(secret: Self.secret, digits: 6)
        #expect(throws: OTPError(.invalidWindow, "")) { try hotp.verify(hotp.code(counter: 0), counter: 0, lookAhead: -1) }
        #expect(throws: OTPError(.invalidWindow, "")) { try hotp.verify(hotp.code(counter: 0), counter: 0, lookAhead: 50_000_000) }
        #expect(throws: OTPError(.invalidCode, "")) {
            try hotp.verify(try OTPCode(parsing: "12345678", digits: 8), counter: 0, lookAhead: 1)
        }
        #expect(throws: OTPError(.invalidCode, "")) { try OTPCode(parsing: "12a456", digits: 6) }
        #expect(throws: OTPError(.invalidCode, "")) { try OTPCode(parsing: "12345", digits: 6) }
        #expect(throws: OTPError(.invalidCode, "")) { try OTPCode(value: 1_000_000, digits: 6) }
        #expect(try OTPCode(parsing: "012 345", digits: 6).value == 12_345)
        #expect(try OTPCode(parsing: "000001", digits: 6).description == "000001")
        #expect(throws: OTPError(.emptySecret, "")) { try OTPSecret(bytes: [UInt8]()) }
        #expect(throws: OTPError(.invalidAlgorithm, "")) { try HashAlgorithm(parsing: "md5") }
        #expect(try HashAlgorithm(parsing: "SHA-256") == .sha256)
    }

    @Test("a batch of codes equals the codes one by one")
    func batch() throws {
        let hotp = try HOTP(secret: Self.secret, algorithm: .sha256, digits: 7)
        let batch = hotp.codes(from: 42, count: 100)
        #expect(batch.count == 100)
        for (i, code) in batch.enumerated() { #expect(code == hotp.code(counter: 42 + UInt64(i))) }
        // Odd counts end on the single-lane path; counts 0 and 1 too.
        for count in [0, 1, 7] {
            #expect(hotp.codes(from: 9, count: count) == (0..<UInt64(count)).map { hotp.code(counter: 9 + $0) })
        }
    }
}
