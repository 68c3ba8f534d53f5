import Foundation
import OTP
import SeedImport
import Testing

@Suite("CSV seed files")
struct CSVTests {
    @Test("header, comments, hex and Base32 seeds, both types, optional algorithm")
    func reads() throws {
        let csv = """
            serial,seed,type,digits,counter_or_period,algorithm
            # a comment
            CSV-1, 3132333435363738393031323334353637383930, hotp, 6, 5, sha1
            CSV-2, GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, totp, 8, 30

            "CSV-3","hex:3132333435363738393031323334353637383930313233343536373839303132",totp,6,60,SHA256
            """
        let file = try SeedFileReader.read(Array(csv.utf8))
        #expect(file.format == .csv && file.entries.count == 3)
        let (a, b, c) = (file.entries[0], file.entries[1], file.entries[2])
        #expect(a.serial == "CSV-1" && a.type == .hotp && a.counter == 5 && a.digits == 6 && a.position == 3)
        #expect(b.type == .totp && b.period == 30 && b.digits == 8 && b.secret?.hexEncodedString() == a.secret?.hexEncodedString())
        #expect(c.serial == "CSV-3" && c.period == 60 && SeedChecks.algorithm(of: c) == .sha256)
        for entry in file.entries { #expect(SeedChecks.check(entry, now: 0).rejection == nil) }
    }

    @Test("bad lines become rejected entries; binary or huge lines fail the file")
    func badLines() throws {
        let csv = "A,zz!!,totp,6,30\nB,3132333435363738393031323334353637383930,sms,6,30\nC,3132333435363738393031323334353637383930,totp,six,30\nD,only,three\n"
        let entries = try SeedFileReader.read(Array(csv.utf8), format: .csv).entries
        #expect(entries.map { $0.problem?.code } == ["bad-seed", "unsupported-algorithm", "bad-value", "bad-line"])
        #expect(throws: SeedImportError(.malformedCSV, "")) { try SeedFileReader.read(Array(String(repeating: "x", count: 5000).utf8), format: .csv) }
        #expect(throws: SeedImportError(.invalidProtection, "")) { try SeedFileReader.read(Array(csv.utf8), format: .csv, protection: .password("p")) }
    }
}

@Suite("Quarantine checks of single keys")
struct SeedChecksTests {
    func entry(_ seedHex: String, type: OTPType = .totp, digits: Int = 6, suite: String? = nil) throws -> SeedEntry {
        var entry = SeedEntry(position: 1)
        entry.serial = "S"
        entry.type = type
        entry.digits = digits
        entry.suite = suite
        entry.secret = seedHex.isEmpty ? nil : try OTPSecret(hex: seedHex)
        return entry
    }

    @Test("empty, all-zero and short seeds are rejected; 80 to 127 bits are a warning")
    func seeds() throws {
        #expect(SeedChecks.check(try entry(""), now: 0).rejection?.code == "empty-seed")
        #expect(SeedChecks.check(try entry(String(repeating: "00", count: 20)), now: 0).rejection?.code == "zero-seed")
        #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 9)), now: 0).rejection?.code == "short-seed")
        let weak = SeedChecks.check(try entry(String(repeating: "ab", count: 10)), now: 0)
        #expect(weak.rejection == nil && weak.warnings.map(\.code) == ["weak-seed"])
        let fine = SeedChecks.check(try entry(String(repeating: "ab", count: 16)), now: 0)
        #expect(fine.rejection == nil && fine.warnings.isEmpty)
    }

    @Test("suite versus key length, unknown suites, digits out of range")
    func suitesAndDigits() throws {
        #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 20), suite: "HMAC-SHA256"), now: 0).rejection?.code == "suite-mismatch")
        #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 32), suite: "HMAC-SHA256"), now: 0).rejection == nil)
        #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 65), suite: "HMAC-SHA1"), now: 0).rejection?.code == "suite-mismatch")
        #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 20), suite: "OCRA-1:HOTP-SHA1-6"), now: 0).rejection?.code == "unsupported-suite")
        for digits in [0, 5, 9, 10] {
            #expect(SeedChecks.check(try entry(String(repeating: "ab", count: 20), digits: digits), now: 0).rejection?.code == "bad-digits")
        }
    }

    @Test("counters and periods at the edges of Int64 are rejected, the ranges' ends accepted")
    func extremeNumbers() throws {
        let seed = String(repeating: "ab", count: 20)
        for counter: Int64 in [.max, .min, -1, (1 << 48) + 1] {
            var e = try entry(seed, type: .hotp)
            e.counter = counter
            #expect(SeedChecks.check(e, now: 0).rejection?.code == "bad-counter", "\(counter)")
        }
        for period: Int64 in [.max, .min, 0, 3_601] {
            var e = try entry(seed)
            e.period = period
            #expect(SeedChecks.check(e, now: 0).rejection?.code == "bad-period", "\(period)")
        }
        var edge = try entry(seed, type: .hotp)
        edge.counter = 1 << 48
        #expect(SeedChecks.check(edge, now: 0).rejection == nil)
    }

    @Test("expired keys are rejected")
    func expiry() throws {
        var e = try entry(String(repeating: "ab", count: 20))
        e.expiryDate = 1_000
        #expect(SeedChecks.check(e, now: 2_000).rejection?.code == "expired")
    }
}
