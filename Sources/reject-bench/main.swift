// Rejection-cost benchmark: does a rejected sign-in cost the same whatever the reason? On a fresh
// SQLite store, verifies are timed round-robin (so host noise hits every case alike) for: a wrong
// code for an active device (the reference), a replayed code, an unknown user, a user whose only
// device is locked, and a user whose only device is pending. Prints each case's median and p90 and
// its ratio to the wrong code's median. `--idempotency-rows N` first fills the Idempotency-Key table
// with N rows (half of them expired) and adds a case of wrong codes sent with a fresh key each: the
// claim's cost with a large table. `--only CASE` times one case alone (to profile it, e.g. under
// `perf record`). Usage: reject-bench [--rounds N] [--idempotency-rows N] [--only CASE] [--json]
import Foundation
import MFA
@_spi(Testing) import MFAStoreSQLite
import BenchArguments
import OTP

let arguments = BenchArguments(
    usage: """
        usage: reject-bench [--rounds N] [--idempotency-rows N] [--only CASE] [--json]
          Rejection costs by reason on a fresh SQLite store, each case's median over the rounds and its
          ratio to a wrong code's (build with -c release).
          --rounds N             rounds, one verify per case each (default 5000)
          --idempotency-rows N   fill the Idempotency-Key table with N rows first (default 0)
          --only CASE            time one case alone (to profile it)
          --json                 print the figures as JSON
        """, flags: ["--json"], options: ["--rounds", "--idempotency-rows", "--only"])
let rounds = arguments.int("--rounds", 5_000, minimum: 1)
let json = arguments.flag("--json")
let idempotencyRows = arguments.int("--idempotency-rows", 0)
let only = arguments.string("--only")

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reject-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let vault = try SecretVault(key: LibCrypto.randomBytes(32))
let store = try SQLiteMFAStore(path: directory.appendingPathComponent("bench.sqlite").path, chain: AuditChain(vault: vault))
try await store.migrate()
var policy = Policy()
policy.lockoutThreshold = Int.max / 2  // the wrong-code user must stay unlocked for the whole run
let clock = Int64(Date().timeIntervalSince1970)
let service = MFAService(store: store, vault: vault, policy: policy, clock: { clock })

/// An enrolled virtual device of `user`: its secret.
func enrolled(_ user: String) async throws -> (serial: String, secret: OTPSecret) {
    let enrollment = try await service.createVirtual(user: user, actor: "bench")
    let secret = try OTPSecret(base32: enrollment.secretBase32)
    let totp = try TOTP(secret: secret)
    try await service.enable(user: user, serial: enrollment.serial, code1: totp.code(at: clock - 30).description, code2: totp.code(at: clock).description, actor: "bench")
    return (enrollment.serial, secret)
}
let (_, wrongSecret) = try await enrolled("wrong")
let (_, replaySecret) = try await enrolled("replay")
let replayed = try TOTP(secret: replaySecret).code(at: clock + 30).description
_ = try await service.verify(user: "replay", code: replayed, actor: "bench")
let (lockedSerial, _) = try await enrolled("locked")
var locked = try await store.device(serial: lockedSerial)!
locked.state = .locked
locked.lockedUntil = Int64.max / 2
_ = try await store.update(locked, maximumPerOwner: nil, audit: AuditDraft(time: clock, actor: "bench", action: "device.lock", user: "locked", serial: lockedSerial, result: "locked"))
_ = try await service.createVirtual(user: "pending", actor: "bench")
// A wrong code: one no step of the window has (checked with the OTP layer).
let wrongTOTP = try TOTP(secret: wrongSecret)
var wrong = 0
while try wrongTOTP.verify(try OTPCode(value: UInt32(wrong), digits: 6), at: clock, window: policy.totpWindow + 2) != nil { wrong += 1 }
let wrongCode = String(format: "%06d", wrong)

if idempotencyRows > 0 {
    try await store.executeRaw("""
        INSERT INTO idempotency (key, request_hash, response, created_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(idempotencyRows - 1))
        SELECT 'bench:' || i, randomblob(32), 'rejected', CASE WHEN i % 2 = 0 THEN \(clock - 3_600) ELSE \(clock) END FROM n
        """)
}
var cases: [(name: String, user: String, code: String)] = [
    ("wrong code", "wrong", wrongCode), ("replay", "replay", replayed), ("unknown user", "nobody", wrongCode),
    ("locked device", "locked", wrongCode), ("pending only", "pending", wrongCode),
]
if idempotencyRows > 0 { cases.append(("idempotent", "wrong", wrongCode)) }
var requestNumber = 0
var samples = [[Double]](repeating: [], count: cases.count)
@MainActor func verify(_ c: (name: String, user: String, code: String)) async throws -> VerifyResult {
    guard c.name == "idempotent" else { return try await service.verify(user: c.user, code: c.code, actor: "bench") }
    requestNumber += 1
    return try await service.verify(user: c.user, code: c.code, idempotencyKey: "req-\(requestNumber)", actor: "bench")
}
for _ in 0..<200 { for c in cases { _ = try await verify(c) } }  // warm-up
if let only, !cases.contains(where: { $0.name == only }) {
    FileHandle.standardError.write(Data("reject-bench: --only takes one of: \(cases.map(\.name).joined(separator: ", "))\n".utf8))
    exit(64)
}
for _ in 0..<rounds {
    for (i, c) in cases.enumerated() where only == nil || c.name == only {
        let start = ContinuousClock.now
        let result = try await verify(c)
        let elapsed = ContinuousClock.now - start
        precondition(result == .rejected, "\(c.name) was not rejected")
        samples[i].append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
    }
}
func percentile(_ values: [Double], _ p: Double) -> Double { let s = values.sorted(); return s[min(s.count - 1, Int(Double(s.count - 1) * p))] }
let reference = samples[0].isEmpty ? Double.nan : percentile(samples[0], 0.5)
var rows: [[String: Any]] = []
for (i, c) in cases.enumerated() where !samples[i].isEmpty {
    let median = percentile(samples[i], 0.5), p90 = percentile(samples[i], 0.9), p99 = percentile(samples[i], 0.99)
    rows.append([
        "case": c.name, "median_us": (median * 10).rounded() / 10, "p90_us": (p90 * 10).rounded() / 10, "p99_us": (p99 * 10).rounded() / 10,
        "ratio": (median / reference * 100).rounded() / 100,
    ])
}
if json {
    let data = try JSONSerialization.data(withJSONObject: ["rounds": rounds, "idempotency_rows": idempotencyRows, "cases": rows], options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} else {
    print("reject-bench: \(rounds) verifies per case, round-robin, SQLite store, one process, \(idempotencyRows) idempotency rows")
    for row in rows {
        let name = (row["case"] as! String).padding(toLength: 14, withPad: " ", startingAt: 0)
        print(String(format: "  %@ median %7.1f µs  p90 %7.1f µs  p99 %7.1f µs  × %.2f of a wrong code", name, row["median_us"] as! Double, row["p90_us"] as! Double,
                     row["p99_us"] as! Double, row["ratio"] as! Double))
    }
}
