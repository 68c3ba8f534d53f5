import OTP

/// A session with the YKOATH applet of a card (YubiKey 5/NEO, Nitrokey 3 and other OATH cards).
///
/// Selecting the applet happens on creation. Responses longer than one APDU arrive in `61xx` chunks
/// and are collected with SEND REMAINING (`A5`). Every status word becomes a typed ``OATHError`` whose
/// message says what to do ("touch the token", "give the password"). Transport failures surface as
/// ``PCSCError`` (card removed, pcscd gone), malformed answers as ``SmartcardError``.
///
/// Nitrokey 3 notes: it accepts only truncated CALCULATE (P2=01, which this session always uses) and
/// has no CALCULATE ALL — ``calculateAll(time:)`` then falls back to LIST plus one CALCULATE each.
/// Its PIN (VERIFY `B2`) is not supported; its password-less use works.
public final class OATHSession {
    public let transport: any APDUTransport
    public private(set) var version = OATHVersion(0, 0, 0)
    /// The applet's salt (tag 71): the PBKDF2 salt of the password, and a stable device identity.
    public private(set) var salt: [UInt8] = []
    /// The challenge of the last SELECT: present when a password is set and not yet validated.
    public private(set) var challenge: [UInt8]?
    /// Whether the applet has a password (its SELECT carried a challenge).
    public private(set) var hasPassword = false

    /// Upper bound on chained response chunks (about 64 KB), against a card that never stops.
    static let maximumChunks = 256

    /// Selects the applet.
    public init(transport: any APDUTransport) throws {
        self.transport = transport
        try select()
    }

    /// Whether commands other than SELECT/VALIDATE/RESET need ``validate(password:)`` first.
    public var isLocked: Bool { challenge != nil }

    /// (Re)selects the applet; this also forgets a previous validation.
    public func select() throws {
        let response = try send(CommandAPDU(ins: OATHProtocol.Instruction.select, p1: 0x04, p2: 0x00, data: OATHProtocol.aid), "select the OATH applet")
        let items = try TLV.parse(response)
        guard let versionBytes = items.first(OATHProtocol.Tag.version), versionBytes.count == 3 else {
            throw SmartcardError(.missingTag, "the OATH applet's SELECT answer has no 3-byte version (tag 79)")
        }
        version = OATHVersion(versionBytes[0], versionBytes[1], versionBytes[2])
        guard let salt = items.first(OATHProtocol.Tag.name) else {
            throw SmartcardError(.missingTag, "the OATH applet's SELECT answer has no salt (tag 71)")
        }
        self.salt = salt
        challenge = items.first(OATHProtocol.Tag.challenge)
        hasPassword = challenge != nil
    }

    // MARK: Password

    /// Unlocks a password-protected applet with mutual authentication: the card proves it knows the
    /// key too, so a fake card cannot learn the password by answering "OK".
    public func validate(password: String) throws {
        guard let cardChallenge = challenge else {
            throw OATHError(.noPasswordSet, "the OATH applet has no password; omit --password")
        }
        let key = OATHProtocol.deriveKey(password: password, salt: salt)
        let hostChallenge = LibCrypto.randomBytes(8)
        let data = TLV.encode([
            TLV(OATHProtocol.Tag.response, LibCrypto.hmac(.sha1, key: key, message: cardChallenge)),
            TLV(OATHProtocol.Tag.challenge, hostChallenge),
        ])
        let answer: [UInt8]
        do {
            answer = try send(CommandAPDU(ins: OATHProtocol.Instruction.validate, data: data), "validate the password")
        } catch let error as OATHError where error.status == .wrongData || error.status == .referenceDataNotUsable {
            throw OATHError(.wrongPassword, "wrong password for the OATH applet", status: error.status)
        }
        let items = try TLV.parse(answer)
        guard let cardResponse = items.first(OATHProtocol.Tag.response),
            LibCrypto.constantTimeEquals(cardResponse, LibCrypto.hmac(.sha1, key: key, message: hostChallenge))
        else {
            throw OATHError(.wrongPassword, "the card's answer to our challenge is wrong: it does not hold this password's key (not a genuine applet?)")
        }
        challenge = nil
    }

    /// Sets or changes the password (validate first when one is set).
    public func setPassword(_ password: String) throws {
        let key = OATHProtocol.deriveKey(password: password, salt: salt)
        let hostChallenge = LibCrypto.randomBytes(8)
        let data = TLV.encode([
            TLV(OATHProtocol.Tag.key, [OATHType.totp.nibble | HashAlgorithm.sha1.oathNibble] + key),
            TLV(OATHProtocol.Tag.challenge, hostChallenge),
            TLV(OATHProtocol.Tag.response, LibCrypto.hmac(.sha1, key: key, message: hostChallenge)),
        ])
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.setCode, data: data), "set the password")
        hasPassword = true
    }

    /// Removes the password (validate first).
    public func clearPassword() throws {
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.setCode, data: TLV(OATHProtocol.Tag.key, []).encoded), "clear the password")
        hasPassword = false
    }

    // MARK: Credentials

    /// The stored credentials.
    public func list() throws -> [OATHCredential] {
        let response = try send(CommandAPDU(ins: OATHProtocol.Instruction.list), "list credentials")
        return try TLV.parse(response).map { item throws -> OATHCredential in
            guard item.tag == OATHProtocol.Tag.nameListEntry, let typeByte = item.value.first else {
                throw SmartcardError(.malformedResponse, "unexpected tag 0x\(hex([item.tag])) or empty entry in the credential list")
            }
            return try Self.credential(typeByte: typeByte, name: Array(item.value.dropFirst()))
        }
    }

    /// Stores a credential (overwriting one with the same id). Keys longer than the hash block are
    /// hashed, shorter than 14 bytes zero-padded, as the applet expects.
    public func put(
        id: String, type: OATHType, algorithm: HashAlgorithm, digits: Int, secret: OTPSecret, counter: UInt32 = 0,
        requireTouch: Bool = false
    ) throws {
        let name = Array(id.utf8)
        guard !name.isEmpty, name.count <= OATHProtocol.maximumNameLength else {
            throw OATHError(.invalidParameter, "a credential name must have 1 to \(OATHProtocol.maximumNameLength) bytes, got \(name.count)")
        }
        guard (6...8).contains(digits) else {
            throw OATHError(.invalidParameter, "digits must be 6, 7 or 8, got \(digits)")
        }
        if algorithm == .sha512 && version < OATHVersion(4, 3, 1) && version.major != 0 {
            throw OATHError(.unsupported, "SHA-512 needs firmware 4.3.1 or later (this card has \(version))")
        }
        var key = secret.withUnsafeBytes { Array($0) }
        defer { LibCrypto.wipe(&key) }
        if key.count > algorithm.blockBytes { key = LibCrypto.digest(algorithm, key) }
        if key.count < OATHProtocol.minimumKeyLength { key += [UInt8](repeating: 0, count: OATHProtocol.minimumKeyLength - key.count) }
        var data = TLV(OATHProtocol.Tag.name, name).encoded
        var keyValue = [type.nibble | algorithm.oathNibble, UInt8(digits)] + key
        data += TLV(OATHProtocol.Tag.key, keyValue).encoded
        LibCrypto.wipe(&keyValue)
        if requireTouch { data += [OATHProtocol.Tag.property, OATHProtocol.Property.requireTouch] }  // no length byte
        if type == .hotp && counter > 0 {
            data += TLV(OATHProtocol.Tag.initialMovingFactor, withUnsafeBytes(of: counter.bigEndian) { Array($0) }).encoded
        }
        defer { LibCrypto.wipe(&data) }
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.put, data: data), "store '\(id)'")
    }

    /// Deletes a credential.
    public func delete(id: String) throws {
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.delete, data: TLV(OATHProtocol.Tag.name, Array(id.utf8)).encoded), "delete '\(id)'")
    }

    /// Renames a credential (firmware 5.3.1 or later).
    public func rename(id: String, to newID: String) throws {
        if version < OATHVersion(5, 3, 1) && version.major != 0 {
            throw OATHError(.unsupported, "renaming needs firmware 5.3.1 or later (this card has \(version))")
        }
        let newName = Array(newID.utf8)
        guard !newName.isEmpty, newName.count <= OATHProtocol.maximumNameLength else {
            throw OATHError(.invalidParameter, "a credential name must have 1 to \(OATHProtocol.maximumNameLength) bytes, got \(newName.count)")
        }
        let data = TLV.encode([TLV(OATHProtocol.Tag.name, Array(id.utf8)), TLV(OATHProtocol.Tag.name, newName)])
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.rename, data: data), "rename '\(id)'")
    }

    /// Erases every credential and the password (needs no password).
    public func reset() throws {
        _ = try send(CommandAPDU(ins: OATHProtocol.Instruction.reset, p1: 0xDE, p2: 0xAD), "reset the OATH applet")
        try select()
    }

    // MARK: Codes

    /// The code of one credential: TOTP for `time` (the credential's period), HOTP from the card's
    /// counter (which advances). A touch credential waits for the touch; when nobody touches, the
    /// error is ``OATHError/Code/touchTimeout``.
    public func calculate(_ credential: OATHCredential, time: Int64) throws -> OTPCode {
        let challenge: [UInt8] =
            credential.type == .totp ? OATHProtocol.timeChallenge(time: time, period: credential.period) : []
        let data = TLV.encode([TLV(OATHProtocol.Tag.name, Array(credential.id.utf8)), TLV(OATHProtocol.Tag.challenge, challenge)])
        let response: [UInt8]
        do {
            response = try send(CommandAPDU(ins: OATHProtocol.Instruction.calculate, p2: 0x01, data: data), "calculate '\(credential.id)'")
        } catch let error as OATHError where error.code == .authenticationRequired && !isLocked {
            throw OATHError(.touchTimeout, "touch the token: '\(credential.id)' requires a touch and none came in time", status: error.status)
        }
        let items = try TLV.parse(response)
        guard let truncated = items.first(OATHProtocol.Tag.truncatedResponse) else {
            throw SmartcardError(.missingTag, "the answer to CALCULATE has no truncated response (tag 76)")
        }
        return try OATHProtocol.code(fromTruncated: truncated)
    }

    /// Codes of all credentials at `time`. TOTP credentials with a period other than 30 s are
    /// recalculated one by one (CALCULATE ALL uses the 30 s challenge for all); HOTP and touch
    /// credentials come back without a code.
    public func calculateAll(time: Int64) throws -> [OATHCalculation] {
        let data = TLV(OATHProtocol.Tag.challenge, OATHProtocol.timeChallenge(time: time, period: 30)).encoded
        let response: [UInt8]
        do {
            response = try send(CommandAPDU(ins: OATHProtocol.Instruction.calculateAll, p1: 0x00, p2: 0x01, data: data), "calculate all codes")
        } catch let error as OATHError where error.status == .insNotSupported || error.status == .wrongP1P2 {
            // Nitrokey 3 has no CALCULATE ALL.
            return try list().map { credential in
                switch credential.type {
                case .hotp: return OATHCalculation(credential: credential, outcome: .hotp(digits: 6), validFrom: nil, validUntil: nil)
                case .totp: return try totpCalculation(credential, code: calculate(credential, time: time), time: time)
                }
            }
        }
        var reader = TLVReader(response)
        var result: [OATHCalculation] = []
        while !reader.isAtEnd {
            let nameItem = try reader.next()
            guard nameItem.tag == OATHProtocol.Tag.name else {
                throw SmartcardError(.malformedResponse, "CALCULATE ALL: expected a name (tag 71), got tag 0x\(hex([nameItem.tag]))")
            }
            let entry = try reader.next()
            let name = String(decoding: nameItem.value, as: UTF8.self)
            switch entry.tag {
            case OATHProtocol.Tag.hotpEntry:
                let credential = OATHCredential(id: name, type: .hotp, algorithm: .sha1)
                result.append(OATHCalculation(credential: credential, outcome: .hotp(digits: Int(entry.value.first ?? 6)), validFrom: nil, validUntil: nil))
            case OATHProtocol.Tag.touchEntry:
                let credential = OATHCredential(id: name, type: .totp, algorithm: .sha1)
                result.append(OATHCalculation(credential: credential, outcome: .touchRequired(digits: Int(entry.value.first ?? 6)), validFrom: nil, validUntil: nil))
            case OATHProtocol.Tag.truncatedResponse:
                let credential = OATHCredential(id: name, type: .totp, algorithm: .sha1)
                let code =
                    credential.period == 30
                    ? try OATHProtocol.code(fromTruncated: entry.value) : try calculate(credential, time: time)
                result.append(totpCalculation(credential, code: code, time: time))
            default:
                throw SmartcardError(.malformedResponse, "CALCULATE ALL: unexpected tag 0x\(hex([entry.tag])) for '\(name)'")
            }
        }
        return result
    }

    private func totpCalculation(_ credential: OATHCredential, code: OTPCode, time: Int64) -> OATHCalculation {
        let period = credential.period
        let start = (time / period) * period
        return OATHCalculation(credential: credential, outcome: .code(code), validFrom: start, validUntil: start + period)
    }

    static func credential(typeByte: UInt8, name: [UInt8]) throws -> OATHCredential {
        let type: OATHType
        switch typeByte & 0xF0 {
        case OATHType.hotp.nibble: type = .hotp
        case OATHType.totp.nibble: type = .totp
        default: throw SmartcardError(.malformedResponse, "unknown credential type 0x\(hex([typeByte]))")
        }
        guard let algorithm = HashAlgorithm(oathNibble: typeByte) else {
            throw SmartcardError(.malformedResponse, "unknown credential algorithm 0x\(hex([typeByte]))")
        }
        return OATHCredential(id: String(decoding: name, as: UTF8.self), type: type, algorithm: algorithm)
    }

    // MARK: Transport

    /// Sends a command, follows `61xx` chaining with SEND REMAINING, and maps the final status word.
    func send(_ command: CommandAPDU, _ operation: String) throws -> [UInt8] {
        let response: ResponseAPDU
        do {
            response = try ResponseChaining.transmit(
                command, over: transport, remainingINS: OATHProtocol.Instruction.sendRemaining, maximumChunks: Self.maximumChunks)
        } catch let error as SmartcardError where error.code == .chainingOverflow {
            throw SmartcardError(.chainingOverflow, "\(error.message) while trying to \(operation)")
        }
        try Self.check(response.status, operation, isSelect: command.ins == OATHProtocol.Instruction.select && command.p1 == 0x04)
        return response.data
    }

    static func check(_ status: StatusWord, _ operation: String, isSelect: Bool) throws(OATHError) {
        switch status {
        case .success: return
        case .securityNotSatisfied:
            throw OATHError(.authenticationRequired, "the OATH applet is password-protected: give the password (--password) to \(operation)", status: status)
        case .wrongData:
            throw OATHError(.wrongSyntax, "the card rejected the command's data (6A80) trying to \(operation)", status: status)
        case .referenceDataNotUsable:
            throw OATHError(.noSuchCredential, "no such credential, or the card refused (6984) trying to \(operation)", status: status)
        case .notEnoughMemory:
            throw OATHError(.noSpace, "no space left on the token (6A84) trying to \(operation)", status: status)
        case .memoryFailure:
            throw OATHError(.corruptedCredential, "the credential is corrupted on the card (6581) trying to \(operation)", status: status)
        case .fileNotFound where isSelect:
            throw OATHError(.appletNotFound, "the card has no OATH applet (SELECT answered 6A82)", status: status)
        case .fileNotFound:
            throw OATHError(.noSuchCredential, "no such credential (6A82) trying to \(operation)", status: status)
        case .noPreciseDiagnosis where operation.hasPrefix("store"):
            throw OATHError(.noSpace, "no space left on the token (6F00) trying to \(operation)", status: status)
        default:
            throw OATHError(.unexpectedResponse, "the card answered status \(status) trying to \(operation)", status: status)
        }
    }
}
