import TokenDevices
import OTP

/// The YKOATH commands, card side. Each returns the unchained answer; ``YKOATHApplet/process(_:)``
/// checks P1/P2 and the lock before calling them.
extension YKOATHApplet {
    typealias Tag = OATHProtocol.Tag
    typealias Credential = YKOATHCardState.Credential

    // MARK: SELECT (A4 04)

    /// SELECT: the OATH AID answers version, salt and, when a password is set, a fresh challenge
    /// (every SELECT de-authenticates); any other AID answers 6A82 and deselects.
    func select(_ command: CommandAPDU) -> [UInt8] {
        session = Session()
        guard command.data == OATHProtocol.aid else { return StatusWord.fileNotFound.bytes }
        session.selected = true
        var data = TLV(Tag.version, options.versionOverride ?? cardState.version).encoded
        data += TLV(Tag.name, cardState.salt).encoded
        if cardState.passwordKey != nil {
            let challenge = LibCrypto.randomBytes(8)
            session.challenge = challenge
            data += TLV(Tag.challenge, challenge).encoded
            data += TLV(Tag.algorithm, [cardState.passwordAlgorithm.oathNibble]).encoded
        }
        if options.hostile == .truncatedSelect {
            // Version and salt stay intact; a trailing element claims 4 bytes and carries 1.
            data += [Tag.algorithm, 0x04, 0x01]
        }
        return chained(Reply(data))
    }

    // MARK: PUT (01)

    func put(_ command: CommandAPDU) -> Reply {
        var reader = TLVReader(command.data)
        var name: [UInt8]? = nil
        var keyField: [UInt8]? = nil
        var property: UInt8 = 0
        var counter: UInt64 = 0
        do {
            while let tag = reader.peekTag {
                if tag == Tag.property {
                    // A bare pair `78 xx`: no length byte.
                    _ = try reader.rawByte()
                    property |= try reader.rawByte()
                    continue
                }
                let element = try reader.next()
                switch element.tag {
                case Tag.name where name == nil: name = element.value
                case Tag.key where keyField == nil: keyField = element.value
                case Tag.initialMovingFactor:
                    guard element.value.count == 4 else { return Reply(.wrongData) }
                    counter = element.value.reduce(0) { $0 << 8 | UInt64($1) }
                default: return Reply(.wrongData)
                }
            }
        } catch {
            return Reply(.wrongData)
        }
        guard let name, (1...OATHProtocol.maximumNameLength).contains(name.count),
            let keyField, keyField.count >= 2
        else { return Reply(.wrongData) }
        let typeAlgorithm = keyField[0]
        let type: OATHType
        switch typeAlgorithm & 0xF0 {
        case OATHType.hotp.nibble: type = .hotp
        case OATHType.totp.nibble: type = .totp
        default: return Reply(.wrongData)
        }
        guard let algorithm = HashAlgorithm(oathNibble: typeAlgorithm) else { return Reply(.wrongData) }
        let digits = Int(keyField[1])
        let key = Array(keyField[2...])
        guard (6...8).contains(digits), (1...algorithm.blockBytes).contains(key.count) else {
            return Reply(.wrongData)
        }
        let credential = Credential(
            name: name, type: type, algorithm: algorithm, digits: digits, key: key, counter: counter,
            requireTouch: property & OATHProtocol.Property.requireTouch != 0,
            onlyIncreasing: property & OATHProtocol.Property.onlyIncreasing != 0)
        if let index = cardState.index(of: name) {
            cardState.credentials[index] = credential
        } else {
            guard cardState.credentials.count < options.credentialLimit else { return Reply(.notEnoughMemory) }
            cardState.credentials.append(credential)
        }
        persist()
        return Reply()
    }

    // MARK: DELETE (02), RENAME (05)

    func delete(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data), let name = elements.first(Tag.name) else {
            return Reply(.wrongData)
        }
        guard let index = cardState.index(of: name) else { return Reply(.referenceDataNotUsable) }
        cardState.credentials.remove(at: index)
        persist()
        return Reply()
    }

    /// RENAME carries two `71` elements: the current name, then the new one.
    func rename(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data) else { return Reply(.wrongData) }
        let names = elements.filter { $0.tag == Tag.name }.map(\.value)
        guard names.count == 2, elements.count == 2,
            names.allSatisfy({ (1...OATHProtocol.maximumNameLength).contains($0.count) })
        else { return Reply(.wrongData) }
        guard let index = cardState.index(of: names[0]) else { return Reply(.referenceDataNotUsable) }
        guard cardState.index(of: names[1]) == nil else { return Reply(.wrongData) }
        cardState.credentials[index].name = names[1]
        persist()
        return Reply()
    }

    // MARK: LIST (A1)

    func list(_ command: CommandAPDU) -> Reply {
        var data: [UInt8] = []
        for credential in cardState.credentials {
            data += TLV(Tag.nameListEntry, [credential.typeAlgorithmByte] + credential.name).encoded
        }
        return Reply(data)
    }

    // MARK: CALCULATE (A2), CALCULATE ALL (A4 00)

    /// CALCULATE one credential: TOTP over the given challenge; HOTP over its stored counter (the
    /// challenge, `74 00` from ykman, is ignored), which then advances. P2 01 truncated, 00 full.
    func calculate(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data), let name = elements.first(Tag.name) else {
            return Reply(.wrongData)
        }
        guard let index = cardState.index(of: name) else { return Reply(.referenceDataNotUsable) }
        let credential = cardState.credentials[index]
        let challenge: [UInt8]
        switch credential.type {
        case .totp:
            guard let given = elements.first(Tag.challenge) else { return Reply(.wrongData) }
            challenge = given
        case .hotp:
            challenge = (0..<8).map { UInt8(truncatingIfNeeded: credential.counter >> (56 - 8 * UInt64($0))) }
        }
        if credential.requireTouch && options.touchPolicy == .timeout {
            return Reply(.securityNotSatisfied)
        }
        let response = self.response(credential, challenge: challenge, truncated: command.p2 == 0x01)
        if credential.type == .hotp {
            cardState.credentials[index].counter = credential.counter &+ 1
            persist()
        }
        return Reply(response)
    }

    /// CALCULATE ALL over the given (30-second) challenge: TOTP answers a code, HOTP `77 01 digits`
    /// (no computation, no counter step), touch-required TOTP `7C 01 digits`.
    func calculateAll(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data), let challenge = elements.first(Tag.challenge) else {
            return Reply(.wrongData)
        }
        var data: [UInt8] = []
        for credential in cardState.credentials {
            data += TLV(Tag.name, credential.name).encoded
            if credential.type == .hotp {
                data += TLV(Tag.hotpEntry, [UInt8(credential.digits)]).encoded
            } else if credential.requireTouch {
                data += TLV(Tag.touchEntry, [UInt8(credential.digits)]).encoded
            } else {
                data += response(credential, challenge: challenge, truncated: command.p2 == 0x01)
            }
        }
        return Reply(data)
    }

    /// `76 05 digits u32` (dynamic truncation, top bit cleared) or `75 len digits hmac`.
    private func response(_ credential: Credential, challenge: [UInt8], truncated: Bool) -> [UInt8] {
        let mac = LibCrypto.hmac(credential.algorithm, key: credential.key, message: challenge)
        let digits = options.hostile == .wrongDigits ? 0x0F : UInt8(credential.digits)
        guard truncated else { return TLV(Tag.response, [digits] + mac).encoded }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        return TLV(Tag.truncatedResponse, [digits, mac[offset] & 0x7F, mac[offset + 1], mac[offset + 2], mac[offset + 3]])
            .encoded
    }

    // MARK: SET CODE (03), VALIDATE (A3), RESET (04 DEAD)

    /// SET CODE `73 len [type|alg] key 74 len challenge 75 len HMAC(key, challenge)` sets the access key
    /// once the HMAC proves the host holds it (6984 otherwise); `73 00` removes it. When a key is set the
    /// session must have validated first (checked by the dispatcher).
    func setCode(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data), let keyField = elements.first(Tag.key) else {
            return Reply(.wrongData)
        }
        if keyField.isEmpty {
            cardState.passwordKey = nil
            cardState.passwordAlgorithm = .sha1
            session.challenge = nil
            session.authenticated = false
            persist()
            return Reply()
        }
        guard let algorithm = HashAlgorithm(oathNibble: keyField[0]), (2...65).contains(keyField.count),
            let challenge = elements.first(Tag.challenge), !challenge.isEmpty,
            let proof = elements.first(Tag.response)
        else { return Reply(.wrongData) }
        let key = Array(keyField[1...])
        let expected = LibCrypto.hmac(algorithm, key: key, message: challenge)
        guard LibCrypto.constantTimeEquals(expected, proof) else { return Reply(.referenceDataNotUsable) }
        cardState.passwordKey = key
        cardState.passwordAlgorithm = algorithm
        // The host has just proven it holds the new key: the session stays unlocked.
        session.authenticated = true
        persist()
        return Reply()
    }

    /// VALIDATE `75 len HMAC(key, select challenge) 74 len host challenge`: unlocks the session and
    /// answers `75 len HMAC(key, host challenge)` for mutual authentication; 6984 when no key is set,
    /// no challenge was issued, or the response is wrong.
    func validate(_ command: CommandAPDU) -> Reply {
        guard let elements = try? TLV.parse(command.data), let proof = elements.first(Tag.response),
            let hostChallenge = elements.first(Tag.challenge)
        else { return Reply(.wrongData) }
        guard let key = cardState.passwordKey, let challenge = session.challenge else {
            return Reply(.referenceDataNotUsable)
        }
        let algorithm = cardState.passwordAlgorithm
        let expected = LibCrypto.hmac(algorithm, key: key, message: challenge)
        guard LibCrypto.constantTimeEquals(expected, proof) else {
            session.authenticated = false
            return Reply(.referenceDataNotUsable)
        }
        session.authenticated = true
        return Reply(TLV(Tag.response, LibCrypto.hmac(algorithm, key: key, message: hostChallenge)).encoded)
    }

    /// RESET: wipes credentials and the access key and draws a new salt. Needs no authentication.
    func reset(_ command: CommandAPDU) -> Reply {
        cardState.credentials = []
        cardState.passwordKey = nil
        cardState.passwordAlgorithm = .sha1
        cardState.salt = LibCrypto.randomBytes(YKOATHCardState.saltLength)
        session.authenticated = false
        session.challenge = nil
        persist()
        return Reply()
    }
}
