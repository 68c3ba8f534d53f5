// Seed-file import benchmark: writes a PSKC file of N key packages (AES-128-CBC under a pre-shared
// key, HMAC-SHA1 ValueMACs under an encrypted MAC key), then imports it into a fresh SQLite store
// through MFAService.importSeeds (decrypt + MAC + checks + seal + one-transaction insert + audit),
// several times, and prints the medians. The reference, python-pskc (Debian python3-pskc), reads and
// decrypts the first --reference-keys keys of the same file in the same run (it is far slower, so on
// a slice); 0 skips it. Usage: import-bench [--keys N] [--runs R] [--reference-keys M] [--json]
import BenchArguments
import Foundation
import MFA
import MFAStoreSQLite
import OTP
import SeedImport

let arguments = BenchArguments(
    usage: """
        usage: import-bench [--keys N] [--runs R] [--reference-keys M] [--json]
          Imports a PSK-encrypted PSKC file of N keys into a fresh SQLite store R times (medians), with
          python-pskc reading the first M keys in the same run (build with -c release).
          --keys N             key packages in the file (default 100000)
          --runs R             imports, the median is reported (default 5)
          --reference-keys M   keys python-pskc reads (default 10000, 0 skips the reference)
          --json               print the figures as JSON
        """, flags: ["--json"], options: ["--keys", "--runs", "--reference-keys"])
let keys = arguments.int("--keys", 100_000, minimum: 1)
let runs = arguments.int("--runs", 5, minimum: 1)
let referenceKeys = min(arguments.int("--reference-keys", 10_000), keys)
let json = arguments.flag("--json")

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
func median(_ values: [Double]) -> Double { values.sorted()[(values.count - 1) / 2] }

/// Records when each import phase was first reported.
final class PhaseClock: @unchecked Sendable {
    private let lock = NSLock()
    private let start = ContinuousClock.now
    private var seen: [(ImportProgress.Phase, ContinuousClock.Instant)] = []
    func saw(_ phase: ImportProgress.Phase) {
        lock.withLock { if seen.last?.0 != phase { seen.append((phase, .now)) } }
    }
    /// "reading 3.10 s, checking 0.20 s, …": the time from each phase to the next.
    func summary() -> String {
        lock.withLock {
            var parts: [String] = []
            var previous: (ImportProgress.Phase, ContinuousClock.Instant)? = seen.first.map { ($0.0, start) }
            for (phase, at) in seen.dropFirst() {
                if let (name, began) = previous { parts.append(String(format: "%@ %.2f s", name.rawValue, seconds(at - began))) }
                previous = (phase, at)
            }
            return parts.joined(separator: ", ")
        }
    }
}

let psk = LibCrypto.randomBytes(16)
let writer = PSKCWriter(preSharedKey: psk)
var document = writer.header()
document.reserveCapacity(keys * 1_100)
for i in 0..<keys {
    let totp = i % 2 == 0
    let number = String(i)
    let serial = "BENCH" + String(repeating: "0", count: max(0, 8 - number.count)) + number
    document += writer.package(PSKCWriter.Token(serial: serial, type: totp ? .totp : .hotp, seed: LibCrypto.randomBytes(20)))
}
document += writer.footer()
let file = Array(document.utf8)
document = ""

var parse: [Double] = []
var total: [Double] = []
let clock = ContinuousClock()
for run in 0..<runs {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let vault = try SecretVault(key: LibCrypto.randomBytes(32))
    let store = try SQLiteMFAStore(path: directory.appendingPathComponent("bench.sqlite").path, chain: AuditChain(vault: vault))
    try await store.migrate()
    let service = MFAService(store: store, vault: vault, clock: { Int64(Date().timeIntervalSince1970) })

    let parsed = try clock.measure { _ = try SeedFileReader.read(file, format: .pskc, protection: .preSharedKey(psk)) }
    var report: ImportReport?
    // When each phase began, for the breakdown (reading includes the per-key work that overlaps it).
    let phases = PhaseClock()
    let elapsed = try await clock.measure {
        report = try await service.importSeeds(file, format: .pskc, protection: .preSharedKey(psk), actor: "bench") { progress in
            phases.saw(progress.phase)
        }
    }
    guard let report, report.imported == keys, report.committed else {
        FileHandle.standardError.write(Data("import-bench: run \(run + 1) did not import every key\n".utf8))
        exit(1)
    }
    parse.append(seconds(parsed))
    total.append(seconds(elapsed))
    if !json {
        print(String(format: "run %d: parse+decrypt+MAC %.2f s, full import %.2f s (%@)", run + 1, seconds(parsed), seconds(elapsed), phases.summary()))
    }
}

/// python-pskc reading the first `count` packages of the same file and decrypting every secret (MACs
/// checked): its keys/s, or nil when it is not installed or fails.
@MainActor func referenceKeysPerSecond(_ count: Int) -> Double? {
    guard count > 0 else { return nil }
    // The header and the first `count` packages of the file, cut at the byte level.
    let end = Array("</pskc:KeyPackage>\n".utf8)
    let header = Array(writer.header().utf8)
    var cut = header.count
    var packages = 0
    while packages < count, cut + end.count <= file.count {
        if file[cut] == end[0], file[cut..<(cut + end.count)].elementsEqual(end) {
            packages += 1
            cut += end.count
        } else {
            cut += 1
        }
    }
    var slice = String(decoding: file[..<cut], as: UTF8.self)
    slice += writer.footer()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-bench-reference-\(UUID().uuidString).xml").path
    guard FileManager.default.createFile(atPath: path, contents: Data(slice.utf8)) else { return nil }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let script = """
        import sys, time
        from pskc import PSKC
        start = time.monotonic()
        container = PSKC(sys.argv[1])
        container.encryption.key = bytes.fromhex(sys.argv[2])
        count = sum(1 for key in container.keys if key.secret)
        print(count, time.monotonic() - start)
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script, path, Hex.encode(psk)]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let fields = String(decoding: data, as: UTF8.self).split(separator: " ")
    guard process.terminationStatus == 0, fields.count == 2, Int(fields[0]) == packages,
        let elapsed = Double(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)), elapsed > 0
    else { return nil }
    return Double(packages) / elapsed
}

let mb = Double(file.count) / 1_048_576
let reference = referenceKeysPerSecond(referenceKeys)
let ours = Double(keys) / median(total)
let oursParse = Double(keys) / median(parse)
if json {
    let referenceField = reference.map { String(format: "%.0f", $0) } ?? "null"
    print(#"{"keys": \#(keys), "fileMB": \#(String(format: "%.1f", mb)), "runs": \#(runs), "medianParseSeconds": \#(String(format: "%.3f", median(parse))), "medianImportSeconds": \#(String(format: "%.3f", median(total))), "keysPerSecond": \#(Int(ours)), "referenceKeysPerSecond": \#(referenceField), "referenceKeys": \#(referenceKeys)}"#)
} else {
    print(String(format: "%d key packages, %.1f MB (PSK AES-128-CBC, HMAC-SHA1 MACs), %d runs", keys, mb, runs))
    print(String(format: "median parse+decrypt+MAC: %.2f s; median full import into SQLite: %.2f s (%.0f keys/s)", median(parse), median(total), ours))
    if let reference {
        print(String(format: "reference python-pskc (read + MAC + decrypt, first %d keys): %.0f keys/s; ours: parse+decrypt+MAC %.1fx, full import %.1fx", referenceKeys, reference, oursParse / reference, ours / reference))
    } else if referenceKeys > 0 {
        print("reference python-pskc: not measured (install python3-pskc)")
    }
}
