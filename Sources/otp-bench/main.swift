// otp-bench: single-core throughput of the OTP core, with liboath (oath-toolkit) measured in the same
// run on the same work. Build in release: `swift build -c release --product otp-bench`.
//
//   otp-bench [--json] [--runs N] [--quick]
//
// Each figure is the median of N runs (default 9). Machines here are shared and noisy: compare the
// ratios, which are measured back to back, rather than absolute numbers across runs.
import CLibOath
import COpenSSL
import BenchArguments
import OTP

#if canImport(Glibc)
import Glibc
#endif

struct Figure: Sendable {
    let name: String
    let unit: String
    let ours: Double
    let liboath: Double?
    /// Higher is better for rates, lower for times: the ratio is "how many times better we are".
    let higherIsBetter: Bool

    var ratio: Double? {
        guard let liboath, liboath > 0, ours > 0 else { return nil }
        return higherIsBetter ? ours / liboath : liboath / ours
    }
}

func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Median of `runs` timings of `body`, in nanoseconds.
func medianTime(runs: Int, _ body: () -> Void) -> Double {
    body()  // warm-up
    var samples: [UInt64] = []
    for _ in 0..<runs {
        let start = nanoseconds()
        body()
        samples.append(nanoseconds() - start)
    }
    samples.sort()
    return Double(samples[samples.count / 2])
}

var sink: UInt64 = 0

let arguments = BenchArguments(
    usage: """
        usage: otp-bench [--json] [--runs N] [--quick]
          Single-core OTP throughput with liboath measured in the same run (build with -c release).
          --json      print the figures as JSON
          --runs N    runs per figure, the median is reported (default 9, 3 with --quick)
          --quick     a tenth of the work per run (a smoke test, not a measurement)
        """, flags: ["--json", "--quick"], options: ["--runs"])
let json = arguments.flag("--json")
let quick = arguments.flag("--quick")
let runs = arguments.int("--runs", quick ? 3 : 9, minimum: 1)
let codesPerRun = quick ? 200_000 : 2_000_000
let verifiesPerRun = quick ? 50_000 : 500_000

guard oath_init() == OATH_OK.rawValue else {
    print("otp-bench: liboath failed to initialise")
    exit(2)
}

let key20: [UInt8] = Array("12345678901234567890".utf8)
let key32: [UInt8] = Array("12345678901234567890123456789012".utf8)
let key64: [UInt8] = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)
var figures: [Figure] = []

// 0. The floor: two SHA-1 compressions (OpenSSL's SHA1_Transform, SHA-NI where the CPU has it) per
// code, no HMAC bookkeeping at all. No HMAC-SHA1 code can be faster than this single stream.
do {
    var block = [UInt8](repeating: 0, count: 64)
    var ctx = SHA_CTX()
    SHA1_Init(&ctx)
    let floor = medianTime(runs: runs) {
        block.withUnsafeMutableBufferPointer { b in
            for i in 0..<codesPerRun {
                b[0] = UInt8(truncatingIfNeeded: i)
                SHA1_Transform(&ctx, b.baseAddress)
                SHA1_Transform(&ctx, b.baseAddress)
            }
        }
        sink &+= UInt64(ctx.h0)
    }
    figures.append(
        Figure(name: "floor_two_sha1_compressions_per_second", unit: "codes/s", ours: Double(codesPerRun) / (floor / 1e9),
               liboath: nil, higherIsBetter: true))
}

// 1. HOTP code generation, each hash.
for (algorithm, key) in [(HashAlgorithm.sha1, key20), (.sha256, key32), (.sha512, key64)] {
    let hotp = try HOTP(secret: OTPSecret(bytes: key), algorithm: algorithm, digits: 6)
    let ours = medianTime(runs: runs) {
        // Batches of 10 000 consecutive counters, as a resync display or a code list computes them.
        var acc: UInt64 = 0
        for batch in stride(from: 0, to: codesPerRun, by: 10_000) {
            for code in hotp.codes(from: UInt64(batch), count: 10_000) { acc &+= UInt64(code.value) }
        }
        sink &+= acc
    }
    // liboath: HOTP is SHA-1 only; for SHA-256/512 its TOTP entry point with a 1-second step computes
    // the same HMAC-and-truncate per counter.
    var buffer = [CChar](repeating: 0, count: 16)
    let flags: Int32 =
        switch algorithm {
        case .sha1: 0
        case .sha256: Int32(OATH_TOTP_HMAC_SHA256.rawValue)
        case .sha512: Int32(OATH_TOTP_HMAC_SHA512.rawValue)
        }
    let theirs = medianTime(runs: runs) {
        key.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { k in
                for counter in 0..<UInt64(codesPerRun / 4) {
                    if algorithm == .sha1 {
                        _ = oath_hotp_generate(k.baseAddress, k.count, counter, 6, false, Int(bitPattern: OATH_HOTP_DYNAMIC_TRUNCATION), &buffer)
                    } else {
                        _ = oath_totp_generate2(k.baseAddress, k.count, time_t(counter), 1, 0, 6, flags, &buffer)
                    }
                    sink &+= UInt64(UInt8(bitPattern: buffer[5]))
                }
            }
        }
    }
    figures.append(
        Figure(
            name: "hotp_\(algorithm.rawValue)_codes_per_second", unit: "codes/s",
            ours: Double(codesPerRun) / (ours / 1e9), liboath: Double(codesPerRun / 4) / (theirs / 1e9),
            higherIsBetter: true))
}

// 2. TOTP ±1 verify (SHA-1, 6 digits): a code of the previous step, so the scan finds it at -1.
do {
    let secret = try OTPSecret(bytes: key20)
    let totp = try TOTP(secret: secret, digits: 6, period: 30)
    let time: Int64 = 1_700_000_000
    let code = totp.code(step: UInt64(totp.step(at: time) - 1))
    let ours = medianTime(runs: runs) {
        var acc: Int64 = 0
        for i in 0..<verifiesPerRun {
            acc &+= (try! totp.verify(code, at: time + Int64(i & 7), window: 1))?.offset ?? 0
        }
        sink &+= UInt64(bitPattern: acc)
    }
    // Cold: the key schedule derived from the raw secret on every verify, as a service that opens a
    // sealed secret per request does.
    let cold = medianTime(runs: runs) {
        var acc: Int64 = 0
        for i in 0..<(verifiesPerRun / 4) {
            let fresh = try! TOTP(key: OTPKey(secret: secret, algorithm: .sha1), digits: 6, period: 30)
            acc &+= (try! fresh.verify(code, at: time + Int64(i & 7), window: 1))?.offset ?? 0
        }
        sink &+= UInt64(bitPattern: acc)
    }
    let text = code.description
    let theirs = medianTime(runs: runs) {
        key20.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { k in
                for i in 0..<(verifiesPerRun / 4) {
                    sink &+= UInt64(bitPattern: Int64(oath_totp_validate(k.baseAddress, k.count, time_t(time) + time_t(i & 7), 30, 0, 1, text)))
                }
            }
        }
    }
    let liboathPerOp = theirs / Double(verifiesPerRun / 4)
    figures.append(
        Figure(name: "totp_verify_window1_ns", unit: "ns/op", ours: ours / Double(verifiesPerRun), liboath: liboathPerOp, higherIsBetter: false))
    figures.append(
        Figure(name: "totp_verify_window1_cold_key_ns", unit: "ns/op", ours: cold / Double(verifiesPerRun / 4), liboath: liboathPerOp, higherIsBetter: false))
}

// 3. HOTP resync over 100 000 counters (two codes that do not occur: the whole window is scanned).
do {
    let hotp = try HOTP(secret: OTPSecret(bytes: key20), digits: 6)
    // Codes absent from [0, 100000]: search for values that no counter in the window produces.
    var seen = Set<UInt32>()
    for counter in 0...UInt64(100_000) { seen.insert(hotp.code(counter: counter).value) }
    var absent: [UInt32] = []
    var candidate: UInt32 = 0
    while absent.count < 2 {
        if !seen.contains(candidate) { absent.append(candidate) }
        candidate += 1
    }
    let c1 = try OTPCode(value: absent[0], digits: 6)
    let c2 = try OTPCode(value: absent[1], digits: 6)
    let ours = medianTime(runs: runs) {
        sink &+= (try! hotp.resync(c1, c2, from: 0, window: 100_000))?.counter ?? 1
    }
    let text = c1.description
    let theirs = medianTime(runs: runs) {
        key20.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { k in
                sink &+= UInt64(bitPattern: Int64(oath_hotp_validate(k.baseAddress, k.count, 0, 100_000, text)))
            }
        }
    }
    figures.append(
        Figure(name: "hotp_resync_100k_ms", unit: "ms", ours: ours / 1e6, liboath: theirs / 1e6, higherIsBetter: false))
}

oath_done()

func format(_ value: Double) -> String {
    if value >= 1_000_000 { return String(format: "%.2fM", value / 1_000_000) }
    if value >= 100 { return String(format: "%.0f", value) }
    return String(format: "%.3f", value)
}

func String(format: String, _ value: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

if json {
    var lines: [String] = []
    for f in figures {
        let liboath = f.liboath.map { String(format: "%.6g", $0) } ?? "null"
        let ratio = f.ratio.map { String(format: "%.3g", $0) } ?? "null"
        lines.append(
            "    {\"name\": \"\(f.name)\", \"unit\": \"\(f.unit)\", \"ours\": \(String(format: "%.6g", f.ours)), \"liboath\": \(liboath), \"ratio_vs_liboath\": \(ratio)}")
    }
    print("{\n  \"runs\": \(runs),\n  \"codes_per_run\": \(codesPerRun),\n  \"figures\": [\n" + lines.joined(separator: ",\n") + "\n  ]\n}")
} else {
    print("otp-bench: medians of \(runs) runs, single thread (ratio = times better than liboath)")
    for f in figures {
        let pad = String(repeating: " ", count: max(0, 34 - f.name.count))
        print("  \(f.name)\(pad) ours \(format(f.ours)) \(f.unit)   liboath \(f.liboath.map(format) ?? "-") \(f.unit)   ratio \(f.ratio.map { String(format: "%.1fx", $0) } ?? "-")")
    }
}
if sink == 42 { print("") }  // keeps the work observable
