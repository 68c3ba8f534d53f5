import MFA
import Testing

@Suite("SecondsText: lengths of time as admins write them")
struct SecondsTextTests {
    @Test("units and plain seconds parse; anything else is nil")
    func parse() {
        #expect(SecondsText.parse("90d") == 7_776_000 && SecondsText.parse("24h") == 86_400 && SecondsText.parse("30m") == 1_800)
        #expect(SecondsText.parse("45s") == 45 && SecondsText.parse("3600") == 3_600 && SecondsText.parse("0") == 0)
        for bad in ["", "d", "-5", "+5", "1.5h", "5w", "5 d", "٣h", "99999999999999999999", "9999999999999999d"] {
            #expect(SecondsText.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("describe picks the largest unit that divides evenly")
    func describe() {
        #expect(SecondsText.describe(86_400) == "1d" && SecondsText.describe(5_400) == "90m" && SecondsText.describe(61) == "61s")
        #expect(SecondsText.describe(7_200) == "2h" && SecondsText.iso(0) == "1970-01-01T00:00:00Z")
    }
}
