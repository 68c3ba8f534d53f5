import Foundation
import TestSupport
import Testing
import TokenDevices

/// `udev/70-mfa-tokens.rules` against the token catalog: every model has a USB and a hidraw rule,
/// every rule belongs to a model, and the file parses (strictly here; `udevadm verify` too where the
/// installed systemd has it, 253 and later).
@Suite("udev rules match the token catalog")
struct UdevRulesTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../udev/70-mfa-tokens.rules").standardized.path

    struct Rule: Hashable {
        let kind: String  // "usb" or "hidraw"
        let vendor: String
        let product: String?
    }

    enum ParseError: Error, CustomStringConvertible {
        case bad(Int, String)
        var description: String {
            switch self { case .bad(let line, let why): "line \(line): \(why)" }
        }
    }

    /// A strict reader of the subset of udev rule syntax the file uses.
    static func parse(_ text: String) throws -> (rules: [Rule], labels: Set<String>, gotos: Set<String>) {
        let keyPattern = try NSRegularExpression(pattern: #"^([A-Z_]+)(\{[A-Za-z_]+\})?(==|!=|\+=|:=|=)"([^"]*)"$"#)
        let matchKeys: Set<String> = ["ACTION", "SUBSYSTEM", "KERNEL", "ATTR", "ATTRS"]
        let assignKeys: Set<String> = ["TAG", "GROUP", "MODE", "GOTO", "LABEL"]
        var rules: [Rule] = [], labels: Set<String> = [], gotos: Set<String> = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var fields: [String: String] = [:]
            var assignments: [String: String] = [:]
            for part in line.components(separatedBy: ", ") {
                let range = NSRange(part.startIndex..., in: part)
                guard let m = keyPattern.firstMatch(in: part, range: range) else { throw ParseError.bad(number + 1, "cannot parse '\(part)'") }
                let key = String(part[Range(m.range(at: 1), in: part)!])
                let attribute = m.range(at: 2).location == NSNotFound ? "" : String(part[Range(m.range(at: 2), in: part)!])
                let op = String(part[Range(m.range(at: 3), in: part)!])
                let value = String(part[Range(m.range(at: 4), in: part)!])
                let isMatch = op == "==" || op == "!="
                if isMatch && !matchKeys.contains(key) || !isMatch && !assignKeys.contains(key) {
                    throw ParseError.bad(number + 1, "'\(key)' with '\(op)'")
                }
                if (key == "ATTR" || key == "ATTRS") != !attribute.isEmpty { throw ParseError.bad(number + 1, "attribute braces on \(key)") }
                if isMatch { fields[key + attribute] = value } else { assignments[key + op] = value }
            }
            if let label = assignments["LABEL="] { labels.insert(label); continue }
            if let target = assignments["GOTO="] { gotos.insert(target); continue }
            guard assignments["TAG+="] == "uaccess", assignments["GROUP="] == "plugdev", assignments["MODE="] == "0660" else {
                throw ParseError.bad(number + 1, "a device rule must add TAG+=\"uaccess\", GROUP=\"plugdev\", MODE=\"0660\"")
            }
            if fields["SUBSYSTEM"] == "usb", let vendor = fields["ATTR{idVendor}"] {
                rules.append(Rule(kind: "usb", vendor: vendor, product: fields["ATTR{idProduct}"]))
            } else if fields["KERNEL"] == "hidraw*", fields["SUBSYSTEM"] == "hidraw", let vendor = fields["ATTRS{idVendor}"] {
                rules.append(Rule(kind: "hidraw", vendor: vendor, product: fields["ATTRS{idProduct}"]))
            } else {
                throw ParseError.bad(number + 1, "neither a usb nor a hidraw device rule")
            }
        }
        return (rules, labels, gotos)
    }

    @Test("every catalog model has a usb and a hidraw rule, and every rule a model")
    func catalogAndRulesAgree() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let parsed = try Self.parse(text)
        #expect(parsed.gotos.isSubset(of: parsed.labels), "GOTO without LABEL")
        let hex = { (value: UInt16) in String(format: "%04x", value) }
        var expected: Set<Rule> = []
        for model in TokenCatalog.models {
            for kind in ["usb", "hidraw"] { expected.insert(Rule(kind: kind, vendor: hex(model.vendorID), product: model.productID.map(hex))) }
        }
        let found = Set(parsed.rules)
        #expect(found.count == parsed.rules.count, "duplicate rules")
        #expect(expected.subtracting(found).isEmpty, "catalog models without a rule: \(expected.subtracting(found))")
        #expect(found.subtracting(expected).isEmpty, "rules without a catalog model: \(found.subtracting(expected))")
        // The committed file is exactly what the catalog renders (mfactl hid udev-rules).
        #expect(text == TokenCatalog.udevRules)
    }

    @Test("the strict parser rejects broken rules")
    func parserRejects() {
        #expect(throws: (any Error).self) { try Self.parse("SUBSYSTEM==\"usb\", ATTR{idVendor}==\"1050\"\n") }
        #expect(throws: (any Error).self) { try Self.parse("SUBSYSTEM==\"usb\" ATTR{idVendor}==\"1050\", TAG+=\"uaccess\", GROUP=\"plugdev\", MODE=\"0660\"\n") }
        #expect(throws: (any Error).self) { try Self.parse("SUBSYSTEMS=\"usb\", TAG+=\"uaccess\", GROUP=\"plugdev\", MODE=\"0660\"\n") }
    }

    @Test("udevadm verify accepts the file where udevadm has the verb")
    func udevadmVerify() throws {
        guard let udevadm = TestTools.which("udevadm") else { return }
        let result = try TestTools.run(udevadm, ["verify", Self.path], timeout: 30)
        if result.stderr.contains("Unknown command verb") || result.stdout.contains("Unknown command verb") {
            return  // systemd < 253: the strict parser above is the check
        }
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test("catalog lookups: exact products first, vendor-wide entries after")
    func lookups() {
        #expect(TokenCatalog.model(vendorID: 0x1050, productID: 0x0407)?.interfaces == [.otp, .fido, .ccid])
        #expect(TokenCatalog.model(vendorID: 0x096E, productID: 0x0858)?.vendor == "Feitian")
        #expect(TokenCatalog.model(vendorID: 0x1D50, productID: 0x60FC)?.model == "OnlyKey")
        #expect(TokenCatalog.model(vendorID: 0x1D50, productID: 0x6089) == nil)
        #expect(Set(TokenCatalog.models.map(\.id)).count == TokenCatalog.models.count)
    }
}
