// ct-harness: the constant-time proof, run under
//   valgrind --tool=memcheck --error-exitcode=1 ct-harness [--leaky-control]
//
// It marks every secret byte and every candidate code "undefined" (memcheck client requests), then
// runs the HOTP/TOTP window checks and the HOTP/TOTP resync searches for SHA-1, SHA-256 and SHA-512,
// on matching and non-matching codes. Memcheck reports any conditional branch or memory address that
// depends on an undefined value, so 0 errors means: no secret-dependent control flow or memory access
// up to the declassification of the final result.
//
// --leaky-control adds a deliberately leaky comparison (early-exit byte compare of the computed and the
// given code) that the same run must flag: the negative control showing the check can fail.
import CConstantTime
import OTP
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    print("ct-harness: \(message)")
    exit(2)
}





let leakyControl = CommandLine.arguments.contains("--leaky-control")
guard mfa_ct_instrumented() == 1 else {
    fail("built without <valgrind/memcheck.h>: install valgrind's headers and rebuild, the check cannot run")
}
guard mfa_ct_running_on_valgrind() == 1 else {
    fail("not running under valgrind: run it as `valgrind --tool=memcheck --error-exitcode=1 ct-harness`")
}

/// Marks the secret's bytes as secret (undefined).
func classify(_ secret: OTPSecret) {
    secret.withUnsafeBytes { mfa_ct_secret($0.baseAddress, $0.count) }
}

/// Marks a code's value as secret; its digit count stays public.
func classify(_ code: OTPCode) -> OTPCode {
    var copy = code
    withUnsafeMutableBytes(of: &copy) { raw in
        let offset = MemoryLayout<OTPCode>.offset(of: \OTPCode.value)!
        mfa_ct_secret(raw.baseAddress! + offset, MemoryLayout<UInt32>.size)
    }
    return copy
}

/// Declassifies a result before the harness looks at it (what the service does with the verdict).
func reveal<T>(_ value: T) -> T {
    var copy = value
    withUnsafeBytes(of: &copy) { mfa_ct_declassify($0.baseAddress, $0.count) }
    return copy
}

var checks = 0
var leakyMatches = 0
let time: Int64 = 1_700_000_000
for algorithm in HashAlgorithm.allCases {
    let keyBytes = (0..<(algorithm == .sha512 ? 64 : (algorithm == .sha256 ? 32 : 20))).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    // Public twin, to compute the expected codes outside the classified run.
    let publicHOTP = try HOTP(secret: OTPSecret(bytes: keyBytes), algorithm: algorithm, digits: 8)
    let publicTOTP = try TOTP(secret: OTPSecret(bytes: keyBytes), algorithm: algorithm, digits: 6, period: 30)

    let secret = try OTPSecret(bytes: keyBytes)
    classify(secret)
    let hotp = try HOTP(secret: secret, algorithm: algorithm, digits: 8)
    let totp = try TOTP(secret: secret, algorithm: algorithm, digits: 6, period: 30)

    // HOTP window: a match in the middle, one excluded by the watermark, and a miss.
    let counter: UInt64 = 1000
    let good = classify(publicHOTP.code(counter: counter + 3))
    let m1 = reveal(try hotp.verify(good, counter: counter, lookAhead: 10))
    guard m1?.offset == 3 else { fail("\(algorithm) HOTP window: expected offset 3, got \(String(describing: m1))") }
    let m2 = reveal(try hotp.verify(good, counter: counter, lookAhead: 10, watermark: counter + 3))
    guard m2 == nil || m2!.counter > counter + 3 else { fail("\(algorithm) HOTP watermark not honoured") }
    let miss = classify(try OTPCode(value: (publicHOTP.code(counter: counter).value + 1) % 100_000_000, digits: 8))
    _ = reveal(try hotp.verify(miss, counter: counter, lookAhead: 10))

    // TOTP ±1 and ±2 windows with drift and watermark.
    let step = totp.step(at: time)
    let now = classify(publicTOTP.code(step: UInt64(step - 1)))
    let t1 = reveal(try totp.verify(now, at: time, window: 1))
    guard t1?.offset == -1 else { fail("\(algorithm) TOTP window: expected offset -1, got \(String(describing: t1))") }
    _ = reveal(try totp.verify(now, at: time, window: 2, drift: 3, watermark: step - 5))

    // Resync: HOTP forward, TOTP both directions.
    let c1 = classify(publicHOTP.code(counter: counter + 700))
    let c2 = classify(publicHOTP.code(counter: counter + 701))
    let r1 = reveal(try hotp.resync(c1, c2, from: counter, window: 2_000))
    guard r1?.counter == counter + 700 else { fail("\(algorithm) HOTP resync: got \(String(describing: r1))") }
    let d1 = classify(publicTOTP.code(step: UInt64(step - 40)))
    let d2 = classify(publicTOTP.code(step: UInt64(step - 39)))
    let r2 = reveal(try totp.resync(d1, d2, at: time, window: 300))
    guard r2?.offset == -40 else { fail("\(algorithm) TOTP resync: got \(String(describing: r2))") }
    let totpMiss = classify(try OTPCode(value: (publicTOTP.code(step: UInt64(step)).value + 1) % 1_000_000, digits: 6))
    _ = reveal(try totp.resync(totpMiss, d1, at: time, window: 50))

    // Parsing a code from text branches only on "all digits or not".
    _ = reveal(try OTPCode(parsing: "12345678", digits: 8).value)

    if leakyControl {
        // Negative control: the textbook mistake, an early-exit byte compare of computed and given code.
        let computed = hotp.code(counter: counter + 3).value
        let given = good.value
        var equal = true
        withUnsafeBytes(of: computed) { a in
            withUnsafeBytes(of: given) { b in
                for i in 0..<a.count where a[i] != b[i] {
                    equal = false
                    break
                }
            }
        }
        if equal { leakyMatches += 1 }
    }
    checks += 1
}
print("ct-harness: ran window checks and resync searches for \(checks) hash algorithms\(leakyControl ? " (with the leaky control)" : "")")
