import Foundation
import OTP

/// Reads a PSKC (RFC 6030) KeyContainer with libxml2's pull parser, one KeyPackage at a time, and
/// decrypts each key as soon as its package ends: pre-shared AES keys (CBC and key wrap) or a PBKDF2
/// `DerivedKey`, with `ValueMAC`s checked under the (encrypted) `MACKey`.
///
/// DTDs, entity declarations and entity references are refused (no expansion ever happens); the
/// root must be `KeyContainer` in the `urn:ietf:params:xml:ns:keyprov:pskc` namespace, version 1.0.
public enum PSKCReader {
    public static let namespace = "urn:ietf:params:xml:ns:keyprov:pskc"
    /// The longest text of one element (a CipherValue of a very long key is far shorter).
    static let maximumTextBytes = 64 * 1024

    /// Reads every key of the container. Whole-file failures throw; problems of single keys are in
    /// each ``SeedEntry/problem``.
    public static func read(
        _ bytes: UnsafeRawBufferPointer, protection: TransportProtection, progress: ((Int) -> Void)? = nil
    ) throws(SeedImportError) -> (entries: [SeedEntry], protection: String) {
        let result = try read(bytes, protection: protection, progress: progress) { _ in () }
        return (result.entries, result.protection)
    }

    /// ``read(_:protection:progress:)``, with `alongside` run on each key as soon as it is decoded,
    /// on the other cores while the parser reads on; its results come back in file order.
    ///
    /// The parser is the one part that cannot be spread over cores, so everything else (decryption,
    /// MAC checks, and whatever `alongside` does) overlaps with it.
    public static func read<Extra>(
        _ bytes: UnsafeRawBufferPointer, protection: TransportProtection, progress: ((Int) -> Void)? = nil,
        alongside: @escaping @Sendable (SeedEntry) -> Extra
    ) throws(SeedImportError) -> (entries: [SeedEntry], extras: [Extra], protection: String) {
        try refuseDeclarations(bytes)
        let parser = XMLEventParser()
        var walker = Walker(protection: protection)
        let pipeline = KeyPipeline<(Package, Walker.Keys?), Walker.Finished<Extra>> { chunk in
            chunk.map { package, keys in
                let finished = Walker.finishPackage(package, keys: keys)
                return Walker.Finished(entry: finished.entry, extra: alongside(finished.entry), encrypted: finished.encrypted, decrypted: finished.decrypted)
            }
        }
        walker.emit = pipeline.add
        var seenRoot = false
        try parser.parse(bytes) { event, attributes throws(SeedImportError) in
            switch event {
            case .forbidden(let what):
                throw SeedImportError(.forbiddenXML, "the file contains \(what) near line \(parser.line)")
            case .start(let name, let namespace):
                if !seenRoot {
                    guard name == "KeyContainer", namespace == Self.namespace else {
                        throw SeedImportError(
                            .notPSKC, "the root element is {\(namespace ?? "")}\(name), not a PSKC KeyContainer in \(Self.namespace)")
                    }
                    if let version = attributes("Version"), version != "1.0" {
                        throw SeedImportError(.notPSKC, "PSKC version \(version) is not supported (1.0 is)")
                    }
                    seenRoot = true
                }
                try walker.start(name) { attributes($0) }
            case .end(let name):
                try walker.end(name, progress: progress)
            case .text(let text):
                try walker.text(text, line: parser.line)
            }
        }
        guard seenRoot else { throw SeedImportError(.malformedXML, "the file holds no XML element") }
        let finished = pipeline.finish()
        try walker.finish(finished.reduce(0) { $0 + $1.encrypted }, finished.reduce(0) { $0 + $1.decrypted },
                          badMACs: finished.count { $0.entry.problem?.code == SeedIssue.badMAC })
        return (finished.map(\.entry), finished.map(\.extra), walker.protectionName)
    }

    /// A DOCTYPE or ENTITY declaration anywhere is refused before parsing starts, so no entity can be
    /// declared, let alone expanded (billion laughs, external entities). A plain byte search.
    static func refuseDeclarations(_ bytes: UnsafeRawBufferPointer) throws(SeedImportError) {
        guard let base = bytes.baseAddress else { return }
        let doctype = Array("DOCTYPE".utf8), entity = Array("ENTITY".utf8)
        var offset = 0
        while offset < bytes.count, let hit = memchr(base + offset, Int32(UInt8(ascii: "<")), bytes.count - offset) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            offset = at + 1
            guard at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "!") else { continue }
            for (marker, name) in [(doctype, "DOCTYPE"), (entity, "ENTITY")] where at + 2 + marker.count <= bytes.count {
                if (0..<marker.count).allSatisfy({ bytes[at + 2 + $0] == marker[$0] }) {
                    throw SeedImportError(.forbiddenXML, "the file contains a \(name) declaration (DTDs and entities are refused)")
                }
            }
        }
    }

    /// A value of a `Data` element: plaintext, or encrypted with its MAC.
    struct RawValue {
        var plain: String?
        var cipherAlgorithm: String?
        var cipher: String?
        var mac: String?
    }

    struct Package {
        var entry: SeedEntry
        var values: [String: RawValue] = [:]
    }

    /// The walk over the element events; state is the path of open elements.
    struct Walker {
        let protection: TransportProtection
        var path: [String] = []
        var textBuffer = ""
        /// Packages read so far.
        var packages = 0
        /// Where each package goes when it ends, with the transport keys when it needs them.
        var emit: ((Package, Keys?)) -> Void = { _ in }
        var package: Package?
        var value = RawValue()

        // Container-level protection.
        var keyName: String?
        var derived = false
        var derivationAlgorithm: String?
        var salt: String?
        var iterations: String?
        var keyLength: String?
        var prf: String?
        var macAlgorithm: String?
        var macKeyAlgorithm: String?
        var macKeyCipher: String?
        var currentEncryptionAlgorithm: String?

        var keys: Keys?
        var encryptedValues = 0

        /// A finished package, with what was run alongside.
        struct Finished<Extra> {
            var entry: SeedEntry
            var extra: Extra
            var encrypted: Int
            var decrypted: Int
        }

        struct Keys: Sendable {
            var transport: [UInt8]?
            var mac: [UInt8]?
            var macAlgorithm: HashAlgorithm?
        }

        init(protection: TransportProtection) { self.protection = protection }

        var protectionName: String {
            if derived { return "password" }
            if keyName != nil || macKeyCipher != nil || encryptedValues > 0 { return "pre-shared-key" }
            return "plaintext"
        }

        var parent: String? { path.count >= 2 ? path[path.count - 2] : nil }
        func inside(_ name: String) -> Bool { path.dropLast().contains(name) }

        mutating func start(_ name: String, attribute: (String) -> String?) throws(SeedImportError) {
            path.append(name)
            textBuffer = ""
            switch name {
            case "KeyPackage":
                package = Package(entry: SeedEntry(position: packages + 1))
            case "Key" where package != nil:
                package!.entry.keyID = attribute("Id")
                package!.entry.algorithmName = attribute("Algorithm")
            case "ResponseFormat" where package != nil:
                if let length = attribute("Length") {
                    package!.entry.digits = Int(length) ?? -1
                }
                package!.entry.encoding = attribute("Encoding")
            case "DerivedKey":
                derived = true
            case "KeyDerivationMethod":
                derivationAlgorithm = attribute("Algorithm")
            case "PRF":
                prf = attribute("Algorithm")
            case "MACMethod":
                macAlgorithm = attribute("Algorithm")
            case "EncryptionMethod":
                if inside("MACKey") { macKeyAlgorithm = attribute("Algorithm") } else { currentEncryptionAlgorithm = attribute("Algorithm") }
            case "Secret", "Counter", "Time", "TimeInterval", "TimeDrift":
                if inside("Data") { value = RawValue() }
            default: break
            }
        }

        mutating func text(_ text: String, line: Int) throws(SeedImportError) {
            guard textBuffer.utf8.count + text.utf8.count <= maximumTextBytes else {
                throw SeedImportError(.malformedXML, "an element near line \(line) holds more than \(maximumTextBytes) bytes of text")
            }
            textBuffer += text
        }

        mutating func end(_ name: String, progress: ((Int) -> Void)?) throws(SeedImportError) {
            let text = textBuffer.trimmingWhitespace
            textBuffer = ""
            defer { path.removeLast() }
            let parent = self.parent
            switch name {
            case "KeyName" where inside("EncryptionKey"): keyName = text
            case "Specified" where parent == "Salt": salt = text
            case "IterationCount" where inside("DerivedKey"): iterations = text
            case "KeyLength" where inside("DerivedKey"): keyLength = text
            case "CipherValue" where inside("MACKey"): macKeyCipher = text
            case "CipherValue" where inside("EncryptedValue"):
                value.cipher = text
                value.cipherAlgorithm = currentEncryptionAlgorithm
            case "PlainValue": value.plain = text
            case "ValueMAC": value.mac = text
            case "Secret", "Counter", "Time", "TimeInterval", "TimeDrift":
                if inside("Data"), package != nil { package!.values[name] = value }
            case "Manufacturer" where parent == "DeviceInfo": package?.entry.manufacturer = text
            case "SerialNo" where parent == "DeviceInfo": package?.entry.serial = text
            case "Model" where parent == "DeviceInfo": package?.entry.model = text
            case "Suite" where parent == "AlgorithmParameters": package?.entry.suite = text
            case "StartDate" where package != nil && (parent == "Policy" || parent == "DeviceInfo"):
                var entry = package!.entry
                entry.startDate = Self.date(text, &entry, "StartDate")
                package!.entry = entry
            case "ExpiryDate" where package != nil && (parent == "Policy" || parent == "DeviceInfo"):
                var entry = package!.entry
                entry.expiryDate = Self.date(text, &entry, "ExpiryDate")
                package!.entry = entry
            case "KeyPackage":
                guard let done = package else { break }
                package = nil
                // File-level key problems stop the import here, at the first value that needs a key;
                // the rest of the package's work happens elsewhere (see KeyPipeline).
                let encrypted = done.values.values.filter { $0.plain == nil && $0.cipher != nil }.count
                var keys: Keys?
                if encrypted > 0 {
                    encryptedValues += encrypted
                    keys = try transportKeys()
                    guard keys?.transport != nil else {
                        throw SeedImportError(
                            .keyRequired, "the file's secrets are encrypted\(keyName.map { " with the pre-shared key '\($0)'" } ?? ""): give --psk, --password or --password-file")
                    }
                }
                packages += 1
                emit((done, keys))
                progress?(packages)
            default: break
            }
        }

        /// Checks the file as a whole once every package is finished.
        func finish(_ encryptedValues: Int, _ decryptedValues: Int, badMACs: Int) throws(SeedImportError) {
            guard packages > 0 else { throw SeedImportError(.empty, "the PSKC file holds no KeyPackage") }
            // Without MACs a wrong key shows only as every value failing to decrypt.
            if encryptedValues > 0 && decryptedValues == 0 && keys?.mac == nil {
                throw SeedImportError(.wrongKey, "no encrypted value of the file could be decrypted: wrong pre-shared key or password")
            }
            // With MACs a wrong key usually fails on the MAC key's padding, but about once in 256 the
            // padding comes out valid and the MAC key is garbage: then every MAC fails. One failed MAC
            // is a tampered key; two or more with none verifying is the key, not the file.
            if keys?.mac != nil && decryptedValues == 0 && badMACs >= 2 {
                throw SeedImportError(.wrongKey, "no ValueMAC of the file verifies: wrong pre-shared key or password (or every key was altered)")
            }
        }

        static func date(_ text: String, _ entry: inout SeedEntry, _ field: String) -> Int64? {
            let formatter = ISO8601DateFormatter()
            var date = formatter.date(from: text)
            if date == nil {
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                date = formatter.date(from: text)
            }
            guard let date else {
                entry.warnings.append(SeedIssue("bad-date", "\(field) '\(text)' is not an ISO 8601 date-time; ignored"))
                return nil
            }
            return Int64(date.timeIntervalSince1970)
        }

        /// The transport and MAC keys, derived once (after the container header).
        mutating func transportKeys() throws(SeedImportError) -> Keys {
            if let keys { return keys }
            var result = Keys()
            if derived {
                guard case .password(let password) = protection else {
                    throw SeedImportError(.keyRequired, "the file's secrets are encrypted with a password-derived key (PBKDF2): give --password or --password-file")
                }
                guard derivationAlgorithm?.hasSuffix("#pbkdf2") == true else {
                    throw SeedImportError(.unsupportedAlgorithm, "key derivation \(derivationAlgorithm ?? "(none)") is not supported (PBKDF2 is)")
                }
                guard let saltText = salt, let saltBytes = Data(base64Encoded: saltText, options: .ignoreUnknownCharacters),
                    let count = Int(iterations ?? ""), (1...10_000_000).contains(count), let length = Int(keyLength ?? "16"), [16, 24, 32].contains(length)
                else { throw SeedImportError(.notPSKC, "the PBKDF2 parameters (Salt, IterationCount, KeyLength) are missing or out of range") }
                var prfHash = HashAlgorithm.sha1
                if let prf, !prf.isEmpty {
                    guard let hash = TransportCrypto.macAlgorithm(prf) else { throw SeedImportError(.unsupportedAlgorithm, "PBKDF2 PRF \(prf) is not supported") }
                    prfHash = hash
                }
                result.transport = TransportCrypto.pbkdf2(password: password, salt: [UInt8](saltBytes), iterations: count, length: length, prf: prfHash)
            } else if case .preSharedKey(let key) = protection {
                result.transport = key
            } else if case .password = protection, keyName != nil || macKeyCipher != nil {
                throw SeedImportError(.keyRequired, "the file is protected with a pre-shared key\(keyName.map { " ('\($0)')" } ?? ""), not a password: give --psk")
            }
            if let macAlgorithm {
                guard let hash = TransportCrypto.macAlgorithm(macAlgorithm) else {
                    throw SeedImportError(.unsupportedAlgorithm, "MAC algorithm \(macAlgorithm) is not supported (HMAC-SHA1/256/512 are)")
                }
                result.macAlgorithm = hash
                if let macKeyCipher {
                    guard let transport = result.transport else {
                        throw SeedImportError(.keyRequired, "the file is encrypted\(keyName.map { " with the pre-shared key '\($0)'" } ?? ""): give --psk, --password or --password-file")
                    }
                    guard let algorithm = macKeyAlgorithm, let cipher = TransportCrypto.cipher(algorithm) else {
                        throw SeedImportError(.unsupportedAlgorithm, "the MAC key's encryption \(macKeyAlgorithm ?? "(none)") is not supported")
                    }
                    guard let data = Data(base64Encoded: macKeyCipher, options: .ignoreUnknownCharacters),
                        let macKey = TransportCrypto.decrypt(cipher, key: transport, [UInt8](data))
                    else {
                        throw SeedImportError(.wrongKey, "the MAC key cannot be decrypted: wrong pre-shared key or password")
                    }
                    result.mac = macKey
                } else {
                    // Drafts before RFC 6030 MAC'd under the encryption key itself.
                    result.mac = result.transport
                }
            }
            keys = result
            return result
        }

        /// Decodes a package's values (checking MACs, decrypting) into its entry. `keys` are given
        /// whenever the package has encrypted values. Runs on any thread.
        static func finishPackage(_ package: Package, keys: Keys?) -> (entry: SeedEntry, encrypted: Int, decrypted: Int) {
            var decoder = ValueDecoder(keys: keys)
            var entry = package.entry
            switch entry.algorithmName {
            case "urn:ietf:params:xml:ns:keyprov:pskc:hotp", "urn:ietf:params:xml:ns:keyprov:pskc#hotp": entry.type = .hotp
            case "urn:ietf:params:xml:ns:keyprov:pskc#totp", "urn:ietf:params:xml:ns:keyprov:pskc:totp": entry.type = .totp
            default:
                entry.problem = SeedIssue("unsupported-algorithm", "key algorithm \(entry.algorithmName ?? "(none)") is not HOTP or TOTP")
            }
            do throws(SeedIssue) {
                if let raw = package.values["Counter"] { entry.counter = try decoder.integer(raw, "Counter") }
                if let raw = package.values["Time"] { entry.timeOrigin = try decoder.integer(raw, "Time") }
                if let raw = package.values["TimeInterval"] { entry.period = try decoder.integer(raw, "TimeInterval") }
                if let raw = package.values["TimeDrift"] { entry.driftSteps = try decoder.integer(raw, "TimeDrift") }
                guard let raw = package.values["Secret"] else { throw SeedIssue("no-secret", "the key has no Secret") }
                var bytes = try decoder.decode(raw, "Secret", warnings: &entry.warnings)
                defer { LibCrypto.wipe(&bytes) }
                if !bytes.isEmpty { entry.secret = try? OTPSecret(bytes: bytes) }
            } catch {
                if entry.problem == nil { entry.problem = error }
            }
            return (entry, decoder.encrypted, decoder.decrypted)
        }
    }

    /// Decodes the values of one package under the file's keys, counting what it decrypts.
    struct ValueDecoder {
        let keys: Walker.Keys?
        var encrypted = 0
        var decrypted = 0

        mutating func integer(_ raw: RawValue, _ field: String) throws(SeedIssue) -> Int64 {
            if let plain = raw.plain, raw.cipher == nil {
                guard let value = Int64(plain) else { throw SeedIssue("bad-value", "\(field) '\(plain.prefix(40))' is not an integer") }
                return value
            }
            var ignored: [SeedIssue] = []
            var bytes = try decode(raw, field, warnings: &ignored)
            defer { LibCrypto.wipe(&bytes) }
            guard (1...8).contains(bytes.count) else { throw SeedIssue("bad-value", "encrypted \(field) has \(bytes.count) bytes; 1 to 8 expected") }
            return bytes.reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        }

        /// The plaintext bytes of a value: Base64 plaintext, or decrypted after its MAC is checked.
        mutating func decode(_ raw: RawValue, _ field: String, warnings: inout [SeedIssue]) throws(SeedIssue) -> [UInt8] {
            if let plain = raw.plain {
                guard let data = Data(base64Encoded: plain, options: .ignoreUnknownCharacters) else {
                    throw SeedIssue("bad-value", "\(field) is not Base64")
                }
                return [UInt8](data)
            }
            guard let cipherText = raw.cipher else { throw SeedIssue("no-secret", "\(field) has neither PlainValue nor EncryptedValue") }
            encrypted += 1
            // The walker never hands over a package with encrypted values without a transport key.
            guard let keys, let transport = keys.transport else { throw SeedIssue("undecryptable", "\(field) cannot be decrypted: no transport key") }
            guard let algorithm = raw.cipherAlgorithm, let cipher = TransportCrypto.cipher(algorithm) else {
                throw SeedIssue("unsupported-algorithm", "\(field) is encrypted with \(raw.cipherAlgorithm ?? "(none)"), which is not supported")
            }
            guard let data = Data(base64Encoded: cipherText, options: .ignoreUnknownCharacters) else {
                throw SeedIssue("bad-value", "\(field)'s CipherValue is not Base64")
            }
            let cipherBytes = [UInt8](data)
            if let macKey = keys.mac, let macAlgorithm = keys.macAlgorithm {
                guard let macText = raw.mac, let given = Data(base64Encoded: macText, options: .ignoreUnknownCharacters) else {
                    throw SeedIssue("missing-mac", "\(field) has no ValueMAC although the file has a MACMethod")
                }
                let expected = LibCrypto.hmac(macAlgorithm, key: macKey, message: cipherBytes)
                guard LibCrypto.constantTimeEquals(expected, [UInt8](given)) else {
                    throw SeedIssue(SeedIssue.badMAC, "\(field)'s ValueMAC does not verify (tampered or corrupted file, or a wrong transport key)")
                }
            } else if !warnings.contains(where: { $0.code == "no-mac" }) {
                warnings.append(SeedIssue("no-mac", "the file has no MACMethod: encrypted values are not integrity-checked"))
            }
            guard let plain = TransportCrypto.decrypt(cipher, key: transport, cipherBytes) else {
                throw SeedIssue("undecryptable", "\(field) cannot be decrypted (wrong key, or corrupted)")
            }
            decrypted += 1
            return plain
        }
    }
}
