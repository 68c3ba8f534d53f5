import OTP

/// Reads a seed file of either format: detects the format when not given, fingerprints the bytes
/// (SHA-256, for the audit log) and hands them to ``PSKCReader`` or ``CSVSeedReader``.
public enum SeedFileReader {
    /// The largest file accepted (100 000 encrypted PSKC key packages take about 100 MB).
    public static let maximumBytes = 512 * 1024 * 1024

    /// The format the bytes look like: PSKC when the first non-blank character is `<`, CSV when
    /// the start is printable text, nil otherwise (binary junk).
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> SeedFileFormat? {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "<") { return .pskc }
        let sample = bytes[index..<min(bytes.count, index + 512)]
        let printable = sample.allSatisfy { $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return printable ? .csv : nil
    }

    /// Reads `bytes` as `format` (detected when nil). `progress` gets the number of keys read so far.
    public static func read(
        _ bytes: UnsafeRawBufferPointer, format: SeedFileFormat? = nil, protection: TransportProtection = .none,
        progress: ((Int) -> Void)? = nil
    ) throws(SeedImportError) -> SeedFile {
        try read(bytes, format: format, protection: protection, progress: progress) { _ in () }.file
    }

    /// ``read(_:format:protection:progress:)``, running `alongside` on every key on the other cores
    /// while the file is still being parsed (checks, fingerprints, sealing: whatever the caller needs
    /// per key). The extras come back in the order of `file.entries`.
    public static func read<Extra>(
        _ bytes: UnsafeRawBufferPointer, format: SeedFileFormat? = nil, protection: TransportProtection = .none,
        progress: ((Int) -> Void)? = nil, alongside: @escaping @Sendable (SeedEntry) -> Extra
    ) throws(SeedImportError) -> (file: SeedFile, extras: [Extra]) {
        guard bytes.count <= maximumBytes else {
            throw SeedImportError(.tooLarge, "the file has \(bytes.count) bytes; at most \(maximumBytes) are imported at once")
        }
        guard !bytes.isEmpty else { throw SeedImportError(.empty, "the file is empty") }
        guard let format = format ?? detect(bytes) else {
            throw SeedImportError(.unknownFormat, "the file is neither PSKC (XML) nor CSV text")
        }
        let fingerprint = TransportCrypto.sha256(bytes)
        switch format {
        case .pskc:
            let (entries, extras, protection) = try PSKCReader.read(bytes, protection: protection, progress: progress, alongside: alongside)
            return (SeedFile(format: .pskc, fingerprint: fingerprint, protection: protection, entries: entries), extras)
        case .csv:
            if case .none = protection {} else {
                throw SeedImportError(.invalidProtection, "CSV seed files are plaintext: --psk and --password apply to PSKC only")
            }
            let entries = try CSVSeedReader.read(bytes, progress: progress)
            let extras = parallelMap(entries.count) { alongside(entries[$0]) }
            return (SeedFile(format: .csv, fingerprint: fingerprint, protection: "plaintext", entries: entries), extras)
        }
    }

    /// ``read(_:format:protection:progress:alongside:)`` over an array.
    public static func read<Extra>(
        _ bytes: [UInt8], format: SeedFileFormat? = nil, protection: TransportProtection = .none, progress: ((Int) -> Void)? = nil,
        alongside: @escaping @Sendable (SeedEntry) -> Extra
    ) throws(SeedImportError) -> (file: SeedFile, extras: [Extra]) {
        let result: Result<(file: SeedFile, extras: [Extra]), SeedImportError> = bytes.withUnsafeBytes { buffer in
            do throws(SeedImportError) {
                return .success(try read(buffer, format: format, protection: protection, progress: progress, alongside: alongside))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// ``read(_:format:protection:progress:)`` over an array.
    public static func read(
        _ bytes: [UInt8], format: SeedFileFormat? = nil, protection: TransportProtection = .none, progress: ((Int) -> Void)? = nil
    ) throws(SeedImportError) -> SeedFile {
        try read(bytes, format: format, protection: protection, progress: progress) { _ in () }.file
    }
}
