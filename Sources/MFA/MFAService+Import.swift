import OTP
import SeedImport

extension MFAService {
    /// Imports a seed file of hardware tokens (PSKC or CSV) as unassigned inventory; each token can
    /// then be assigned and activated with ``enable(user:serial:code1:code2:actor:)``.
    ///
    /// Every key goes through the quarantine checks before anything is stored: its own (readable,
    /// HOTP/TOTP, seed not empty, zero or shorter than 80 bits — below 128 bits is a warning —, suite
    /// versus key length, digits, period, dates), duplicates within the file (serials, and seeds by
    /// keyed fingerprint), and the inventory (a serial that exists with the same seed and parameters
    /// is *skipped*, which makes re-running an import harmless; with anything different it is
    /// *rejected*; a seed that another device already has is rejected).
    ///
    /// All or nothing unless `partial`: when any key is rejected, nothing is stored. Stored seeds are
    /// sealed by the vault at once; plaintext seeds live only in wiped-on-release ``OTPSecret``s. The
    /// inserts and their audit entries (one `device.register` per device and one `tokens.import` with
    /// the file's SHA-256) are one store transaction; an import that stores nothing is audited too.
    ///
    /// - Throws: ``MFAError`` with a ``MFAError/Code/seedFile(_:)`` code when the file as a whole
    ///   cannot be read (malformed, hostile, wrong key); store errors.
    public func importSeeds(
        _ bytes: [UInt8], format: SeedFileFormat? = nil, protection: TransportProtection = .none, partial: Bool = false, actor: String,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) async throws(MFAError) -> ImportReport {
        // 1. Each key on its own: checked, fingerprinted and sealed on the other cores while the
        //    file is still being parsed (a key rejected later just drops its sealed copy).
        let now = clock()
        let vault = self.vault
        let fingerprinter = SeedFingerprinter(vault: vault)
        let file: SeedFile
        let verdicts: [KeyVerdict]
        do {
            (file, verdicts) = try SeedFileReader.read(bytes, format: format, protection: protection, progress: { count in
                if count % 1000 == 0 { progress?(ImportProgress(phase: .reading, done: count, total: 0)) }
            }) { entry in KeyVerdict(entry, now: now, fingerprinter: fingerprinter, vault: vault) }
        } catch {
            throw MFAError(.seedFile(error.code.rawValue), error.message)
        }
        let fingerprint = Hex.encode(file.fingerprint)
        let entries = file.entries
        let total = entries.count
        progress?(ImportProgress(phase: .checking, done: 0, total: total))
        var rejection = verdicts.map(\.rejection)
        let warnings = verdicts.map(\.warnings)
        let fingerprints = verdicts.map(\.fingerprint)

        // 2. Duplicates within the file: every occurrence is rejected (which one is right is unknown).
        var bySerial: [ByteKey: [Int]] = [:]  // serials as bytes
        var bySeed: [[UInt8]: [Int]] = [:]
        for i in 0..<total {
            if let serial = entries[i].serial { bySerial[ByteKey(serial), default: []].append(i) }
            if let fp = fingerprints[i] { bySeed[fp, default: []].append(i) }
        }
        for (serial, positions) in bySerial where positions.count > 1 {
            for i in positions where rejection[i] == nil {
                let others = positions.filter { $0 != i }.map { "#\(entries[$0].position)" }.joined(separator: ", ")
                rejection[i] = SeedIssue("duplicate-serial", "serial \(serial) appears more than once in the file (also at \(others))")
            }
        }
        for positions in bySeed.values where positions.count > 1 {
            for i in positions where rejection[i] == nil {
                let others = positions.filter { $0 != i }.map { "#\(entries[$0].position) (\(entries[$0].serial ?? "?"))" }.joined(separator: ", ")
                rejection[i] = SeedIssue("duplicate-seed", "the same seed is in the file more than once (also at \(others))")
            }
        }

        // 3. The inventory.
        var skipped = [Bool](repeating: false, count: total)
        let index = try await store.seedIndex()
        if !index.isEmpty {
            var serials = Set<ByteKey>()
            var seedOwners: [[UInt8]: String] = [:]
            for item in index {
                serials.insert(ByteKey(item.serial))
                if let fp = item.fingerprint { seedOwners[fp] = item.serial }
            }
            let colliding = (0..<total).filter { rejection[$0] == nil && serials.contains(ByteKey(entries[$0].serial ?? "")) }
            var existing: [ByteKey: DeviceRecord] = [:]
            if !colliding.isEmpty {
                for device in try await store.devices(serials: colliding.map { entries[$0].serial! }) { existing[ByteKey(device.serial)] = device }
            }
            for i in 0..<total where rejection[i] == nil {
                let entry = entries[i]
                let serial = entry.serial!
                if let device = existing[ByteKey(serial)] {
                    if try identical(device, entry) {
                        skipped[i] = true
                    } else {
                        rejection[i] = SeedIssue("serial-exists", "device \(serial) exists with a different seed or parameters")
                    }
                } else if let fp = fingerprints[i], let other = seedOwners[fp] {
                    rejection[i] = SeedIssue("duplicate-seed", "device \(other) already has the same seed")
                }
            }
        }

        // 4. Decide, seal, store.
        let rejectedCount = rejection.filter { $0 != nil }.count
        let commit = rejectedCount == 0 || partial
        var records: [DeviceRecord] = []
        var drafts: [AuditDraft] = []
        let short = String(fingerprint.prefix(16))
        if commit {
            progress?(ImportProgress(phase: .sealing, done: 0, total: total))
            records.reserveCapacity(total)
            drafts.reserveCapacity(total + 1)
            for i in 0..<total where rejection[i] == nil && !skipped[i] {
                let entry = entries[i]
                guard let sealed = verdicts[i].sealed else { throw MFAError(.vault, "key #\(entry.position) was not sealed") }
                let kind: DeviceKind = entry.type == .hotp ? .hardwareHOTP : .hardwareTOTP
                let serial = entry.serial!
                var record = DeviceRecord(
                    serial: serial, kind: kind, owner: nil, state: .unassigned, algorithm: SeedChecks.algorithm(of: entry), digits: entry.digits,
                    period: kind.isCounterBased ? 0 : entry.period, counter: kind.isCounterBased ? entry.counter : 0,
                    sealedSecret: try sealed.get(), createdAt: now)
                if !kind.isCounterBased { record.driftSteps = entry.driftSteps }
                record.seedFingerprint = fingerprints[i]
                records.append(record)
                drafts.append(AuditDraft(time: now, actor: actor, action: "device.register", serial: serial, result: "ok", detail: "\(kind.rawValue) import \(short)"))
                if records.count % 1000 == 0 { progress?(ImportProgress(phase: .sealing, done: records.count, total: total)) }
            }
        }
        let keys = (0..<total).map { i in
            let entry = entries[i]
            let status: ImportStatus = rejection[i] != nil ? .rejected : skipped[i] ? .skipped : commit ? .imported : .held
            return ImportKeyReport(
                position: entry.position, serial: entry.serial, kind: entry.type.map { $0 == .hotp ? DeviceKind.hardwareHOTP.rawValue : DeviceKind.hardwareTOTP.rawValue },
                status: status, reason: rejection[i], warnings: warnings[i])
        }
        let report = ImportReport(fingerprint: fingerprint, format: file.format.rawValue, protection: file.protection, committed: commit, partial: partial, keys: keys)
        let summary = AuditDraft(
            time: now, actor: actor, action: "tokens.import", result: commit ? "ok" : "rejected",
            detail: "\(file.format.rawValue) sha256:\(fingerprint) \(report.imported) imported, \(report.skipped) skipped, \(report.rejected) rejected\(partial ? " (partial)" : "")")
        progress?(ImportProgress(phase: .storing, done: 0, total: records.count))
        if records.isEmpty {
            try await store.appendAudit(summary)
        } else {
            try await store.insertBatch(records, audit: drafts + [summary])
        }
        progress?(ImportProgress(phase: .done, done: total, total: total))
        return report
    }

    /// What is known about one key on its own, worked out while the file is parsed: the quarantine
    /// checks of the key itself, its seed's keyed fingerprint and, for a key that passes, its seed
    /// sealed under the vault (bound to its serial).
    struct KeyVerdict: Sendable {
        var rejection: SeedIssue?
        var warnings: [SeedIssue]
        var fingerprint: [UInt8]?
        var sealed: Result<[UInt8], MFAError>?

        init(_ entry: SeedEntry, now: Int64, fingerprinter: SeedFingerprinter, vault: SecretVault) {
            (rejection, warnings) = SeedChecks.check(entry, now: now)
            if rejection == nil {
                if let serial = entry.serial {
                    if (try? Validation.serial(serial)) == nil {
                        rejection = SeedIssue("bad-serial", "serial '\(serial.prefix(70))' is not 1 to 64 characters from A-Z a-z 0-9 - _ . :")
                    }
                } else {
                    rejection = SeedIssue("no-serial", "the key has no serial number (DeviceInfo/SerialNo)")
                }
            }
            guard rejection == nil, let secret = entry.secret, let serial = entry.serial else { return }
            fingerprint = fingerprinter.fingerprint(secret)
            sealed = Result { () throws(MFAError) in try vault.seal(secret, serial: serial) }
        }
    }

    /// Whether an existing device is the token of `entry` again: same kind and parameters, same seed.
    private func identical(_ device: DeviceRecord, _ entry: SeedEntry) throws(MFAError) -> Bool {
        let kind: DeviceKind = entry.type == .hotp ? .hardwareHOTP : .hardwareTOTP
        guard device.kind == kind, device.algorithm == SeedChecks.algorithm(of: entry), device.digits == entry.digits,
            kind.isCounterBased || device.period == entry.period, let secret = entry.secret
        else { return false }
        return try vault.open(device.sealedSecret, serial: device.serial).constantTimeEquals(secret)
    }
}
