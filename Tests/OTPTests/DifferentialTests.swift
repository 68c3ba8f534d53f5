import Foundation
import OTP
import TestSupport
import Testing

/// Random cases checked against two independent implementations: pyotp (PyPI) and oathtool (oath-toolkit).
/// Set OTP_TEST_SEED to replay a failing run; the seed is in every failure message.
@Suite("Differential tests against pyotp and oathtool")
struct DifferentialTests {
    struct Case {
        let type: OTPType
        let key: [UInt8]
        let algorithm: HashAlgorithm
        let digits: Int
        let value: UInt64  // counter (HOTP) or unix time (TOTP)
        let period: Int64
    }

    static func randomCase(_ rng: inout SeededGenerator) -> Case {
        let type: OTPType = Bool.random(using: &rng) ? .hotp : .totp
        let keyLength = Int.random(in: 10...64, using: &rng)
        return Case(
            type: type, key: (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) },
            algorithm: HashAlgorithm.allCases.randomElement(using: &rng)!, digits: Int.random(in: 6...8, using: &rng),
            value: type == .hotp ? UInt64.random(in: 0...(1 << 48), using: &rng) : UInt64.random(in: 0...(1 << 34), using: &rng),
            period: Bool.random(using: &rng) ? 30 : 60)
    }

    static func ours(_ c: Case) throws -> String {
        let secret = try OTPSecret(bytes: c.key)
        switch c.type {
        case .hotp: return try HOTP(secret: secret, algorithm: c.algorithm, digits: c.digits).code(counter: c.value).description
        case .totp:
            return try TOTP(secret: secret, algorithm: c.algorithm, digits: c.digits, period: c.period).code(at: Int64(c.value)).description
        }
    }

    static var pyotpScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference/pyotp_codes.py").path
    }

    @Test("10 000 random HOTP/TOTP cases agree with pyotp")
    func pyotp() throws {
        let seed = SeededGenerator.seedFromEnvironment()
        var rng = SeededGenerator(seed: seed)
        let cases = (0..<10_000).map { _ in Self.randomCase(&rng) }
        let input = cases.map { c in
            "\(c.type.rawValue) \(Hex.encode(c.key)) \(c.algorithm.rawValue) \(c.digits) \(c.value) \(c.period)"
        }.joined(separator: "\n")
        let result = try TestTools.run("python3", [Self.pyotpScript], input: input + "\n")
        try #require(result.status == 0, "pyotp reference failed (pip install pyotp): \(result.stderr)")
        let reference = result.stdout.split(separator: "\n").map(String.init)
        try #require(reference.count == cases.count)
        var mismatches = 0
        for (c, expected) in zip(cases, reference) {
            let code = try Self.ours(c)
            if code != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("seed \(seed): \(c.type) \(c.algorithm) \(c.digits) digits value \(c.value): ours \(code), pyotp \(expected)") }
            }
        }
        #expect(mismatches == 0, "seed \(seed)")
    }

    @Test("10 000 codes from 250 random windows agree with oathtool (HOTP SHA-1, TOTP SHA-1/256/512)")
    func oathtool() async throws {
        let tool = try #require(TestTools.which("oathtool"), "oathtool is not installed (Debian package oathtool)")
        let seed = SeededGenerator.seedFromEnvironment()
        var rng = SeededGenerator(seed: seed)
        let cases = (0..<250).map { i -> Case in
            var c = Self.randomCase(&rng)
            // oathtool's HOTP mode is SHA-1 only; its TOTP mode covers all three hashes.
            if i % 2 == 0 { c = Case(type: .hotp, key: c.key, algorithm: .sha1, digits: c.digits, value: c.value, period: 30) }
            else { c = Case(type: .totp, key: c.key, algorithm: c.algorithm, digits: c.digits, value: c.value % (1 << 33), period: c.period) }
            return c
        }
        let width = 40
        try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (index, c) in cases.enumerated() {
                group.addTask {
                    var arguments = ["-d", String(c.digits), "-w", String(width - 1)]
                    switch c.type {
                    case .hotp: arguments += ["--hotp", "-c", String(c.value)]
                    case .totp: arguments += ["--totp=\(c.algorithm.rawValue)", "-s", "\(c.period)s", "-N", "@\(c.value)"]
                    }
                    let result = try TestTools.run(tool, arguments + [Hex.encode(c.key)])
                    guard result.status == 0 else { throw OTPError(.invalidParameter, "oathtool failed: \(result.stderr)") }
                    return (index, result.stdout.split(separator: "\n").map(String.init))
                }
            }
            var checked = 0
            for try await (index, codes) in group {
                let c = cases[index]
                #expect(codes.count == width, "seed \(seed): oathtool printed \(codes.count) codes")
                let secret = try OTPSecret(bytes: c.key)
                let ours: [String]
                switch c.type {
                case .hotp:
                    ours = try HOTP(secret: secret, algorithm: .sha1, digits: c.digits).codes(from: c.value, count: width).map(\.description)
                case .totp:
                    let totp = try TOTP(secret: secret, algorithm: c.algorithm, digits: c.digits, period: c.period)
                    let step = UInt64(totp.step(at: Int64(c.value)))
                    ours = (0..<UInt64(width)).map { totp.code(step: step + $0).description }
                }
                #expect(ours == codes, "seed \(seed): \(c.type) \(c.algorithm) \(c.digits) digits value \(c.value) period \(c.period)")
                checked += codes.count
            }
            #expect(checked == 10_000)
        }
    }
}
