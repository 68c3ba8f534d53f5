import COpenSSL

/// A decrypted Yubico OTP: the 16-byte block, little-endian fields.
public struct YubicoOTPToken: Sendable, Hashable {
    /// The public id typed before the encrypted part (modhex-decoded; may be empty).
    public let publicID: [UInt8]
    /// The private (secret) id inside the block.
    public let privateID: [UInt8]
    /// Non-volatile counter: power-ups (and session overflows).
    public let usageCounter: UInt16
    /// 24-bit timestamp at 8 Hz since power-up.
    public let timestamp: UInt32
    /// Volatile counter: OTPs since power-up.
    public let sessionCounter: UInt8
    public let random: UInt16
    /// The stored `~crc16` of the first 14 bytes.
    public let crc: UInt16

    /// The (usage, session) pair as one number that orders like the pair: `usage << 8 | session`.
    /// A service stores it as the replay watermark; an OTP is new when its value is greater.
    public var counterValue: Int64 { Int64(usageCounter) << 8 | Int64(sessionCounter) }
}

/// Decodes and checks Yubico OTPs: modhex → public id + AES-128 block → decrypt (OpenSSL, ECB) →
/// CRC residual → private id (constant-time compare) → counters strictly after the last accepted ones.
///
/// The one implementation, used by the token layer (typed-OTP capture) and by the service's
/// verification of `yubico-otp` devices.
public enum YubicoOTP {
    /// Length of the encrypted part in modhex characters.
    public static let encryptedLength = 32
    /// AES-128 key bytes.
    public static let keyLength = 16
    /// Private id bytes.
    public static let privateIDLength = 6

    /// Splits `otp` (modhex, 32 to 64 characters) into public id and block, and decrypts the block
    /// with `key`. Throws ``OTPError/Code/otpCRCMismatch`` when the block does not pass its CRC
    /// (wrong key or corrupted OTP).
    public static func decrypt(_ otp: String, key: [UInt8]) throws(OTPError) -> YubicoOTPToken {
        guard key.count == keyLength else { throw OTPError(.invalidKey, "a Yubico OTP AES key is 16 bytes, got \(key.count)") }
        return try withBytes(of: key) { raw throws(OTPError) in try decrypt(otp, keyBytes: raw) }
    }

    /// Decrypts and validates `otp`: the private id must match, the public id too when given, and
    /// (usage, session) must be strictly greater than `last` (lexicographically). Returns the token,
    /// whose counters become the new `last` once the caller has stored them.
    public static func validate(
        _ otp: String, key: [UInt8], privateID: [UInt8], publicID: [UInt8]? = nil, last: (usage: UInt16, session: UInt8)? = nil
    ) throws(OTPError) -> YubicoOTPToken {
        let token = try decrypt(otp, key: key)
        try check(token, privateIDMatches: constantTimeEqual(token.privateID, privateID), publicID: publicID, last: last)
        return token
    }

    /// ``validate(_:key:privateID:publicID:last:)`` with the key material in one wiped-on-release
    /// secret: the AES-128 key (16 bytes) followed by the private id (6 bytes), as a service keeps it
    /// sealed. No copy of the key leaves the secret's storage.
    public static func validate(
        _ otp: String, secret: OTPSecret, publicID: [UInt8]? = nil, last: (usage: UInt16, session: UInt8)? = nil
    ) throws(OTPError) -> YubicoOTPToken {
        guard secret.count == keyLength + privateIDLength else {
            throw OTPError(.invalidKey, "a Yubico OTP secret is the 16-byte AES key and the 6-byte private id, got \(secret.count) bytes")
        }
        return try secret.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(OTPError) -> YubicoOTPToken in
            let token = try decrypt(otp, keyBytes: UnsafeRawBufferPointer(rebasing: raw[0..<keyLength]))
            var difference: UInt8 = 0
            for index in 0..<privateIDLength { difference |= raw[keyLength + index] ^ token.privateID[index] }
            try check(token, privateIDMatches: difference == 0, publicID: publicID, last: last)
            return token
        }
    }

    /// The token side: the OTP a key with `publicID`, `privateID` and `key` types for these counters
    /// (for virtual tokens and tests). `timestamp` is 24 bits.
    public static func encode(
        publicID: [UInt8], privateID: [UInt8], usageCounter: UInt16, sessionCounter: UInt8, timestamp: UInt32 = 0, random: UInt16 = 0,
        key: [UInt8]
    ) throws(OTPError) -> String {
        guard key.count == keyLength else { throw OTPError(.invalidKey, "a Yubico OTP AES key is 16 bytes, got \(key.count)") }
        guard privateID.count == privateIDLength else { throw OTPError(.invalidKey, "a Yubico OTP private id is 6 bytes, got \(privateID.count)") }
        guard publicID.count <= 16 else { throw OTPError(.invalidKey, "a Yubico OTP public id has at most 16 bytes, got \(publicID.count)") }
        var block = privateID
        block += [UInt8(usageCounter & 0xFF), UInt8(usageCounter >> 8)]
        block += [UInt8(timestamp & 0xFF), UInt8(timestamp >> 8 & 0xFF), UInt8(timestamp >> 16 & 0xFF)]
        block += [sessionCounter, UInt8(random & 0xFF), UInt8(random >> 8)]
        block += YubiCRC.complementBytes(block)
        let cipher = try withBytes(of: key) { raw throws(OTPError) in try aes128Block(block, keyBytes: raw, encrypt: true) }
        return Modhex.encode(publicID) + Modhex.encode(cipher)
    }

    /// Splits off the public id of `otp` without decrypting: the modhex text before the last 32
    /// characters, or nil when `otp` is not a modhex OTP of 32 to 64 characters.
    public static func publicID(of otp: String) -> String? {
        let text = otp.trimmingSuffixNewline().lowercased()
        guard text.count >= encryptedLength, text.count <= encryptedLength + 32, Modhex.isModhex(text) else { return nil }
        return String(text.prefix(text.count - encryptedLength))
    }

    // MARK: Internals

    static func decrypt(_ otp: String, keyBytes: UnsafeRawBufferPointer) throws(OTPError) -> YubicoOTPToken {
        let text = otp.trimmingSuffixNewline()
        guard text.count >= encryptedLength, text.count <= encryptedLength + 32 else {
            throw OTPError(.invalidModhex, "a Yubico OTP has 32 to 64 modhex characters, got \(text.count)")
        }
        let all = try Modhex.decode(text)
        let publicID = Array(all[0..<(all.count - 16)])
        let block = Array(all[(all.count - 16)...])
        var plain = try aes128Block(block, keyBytes: keyBytes, encrypt: false)
        defer { LibCrypto.wipe(&plain) }
        guard YubiCRC.check(plain) else {
            throw OTPError(.otpCRCMismatch, "the OTP does not decrypt to a valid block (wrong AES key or corrupted OTP)")
        }
        return YubicoOTPToken(
            publicID: publicID, privateID: Array(plain[0..<6]), usageCounter: UInt16(plain[6]) | UInt16(plain[7]) << 8,
            timestamp: UInt32(plain[8]) | UInt32(plain[9]) << 8 | UInt32(plain[10]) << 16, sessionCounter: plain[11],
            random: UInt16(plain[12]) | UInt16(plain[13]) << 8, crc: UInt16(plain[14]) | UInt16(plain[15]) << 8)
    }

    static func check(
        _ token: YubicoOTPToken, privateIDMatches: Bool, publicID: [UInt8]?, last: (usage: UInt16, session: UInt8)?
    ) throws(OTPError) {
        if let publicID, publicID != token.publicID {
            throw OTPError(.publicIDMismatch, "the OTP's public id \(Modhex.encode(token.publicID)) is not the expected one")
        }
        guard privateIDMatches else {
            throw OTPError(.privateIDMismatch, "the OTP's private id does not match this token")
        }
        if let last {
            let newer = token.usageCounter > last.usage || (token.usageCounter == last.usage && token.sessionCounter > last.session)
            guard newer else {
                throw OTPError(
                    .replayed,
                    "the OTP's counters (\(token.usageCounter), \(token.sessionCounter)) do not exceed the last accepted (\(last.usage), \(last.session))")
            }
        }
    }

    /// One AES-128-ECB block through OpenSSL's EVP interface (no padding).
    static func aes128Block(_ block: [UInt8], keyBytes: UnsafeRawBufferPointer, encrypt: Bool) throws(OTPError) -> [UInt8] {
        guard keyBytes.count == keyLength, block.count == 16 else { throw OTPError(.invalidKey, "AES-128 needs a 16-byte key and a 16-byte block") }
        guard let context = EVP_CIPHER_CTX_new() else { throw OTPError(.invalidKey, "OpenSSL could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 32)
        var written: Int32 = 0
        var final: Int32 = 0
        let key = keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let ok = block.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_CipherInit_ex(context, EVP_aes_128_ecb(), nil, key, nil, encrypt ? 1 : 0) == 1
                    && EVP_CIPHER_CTX_set_padding(context, 0) == 1
                    && EVP_CipherUpdate(context, out.baseAddress, &written, input.baseAddress, Int32(input.count)) == 1
                    && EVP_CipherFinal_ex(context, out.baseAddress! + Int(written), &final) == 1
            }
        }
        guard ok, written + final == 16 else { throw OTPError(.invalidKey, "AES-128 failed in OpenSSL") }
        let result = Array(output[0..<16])
        LibCrypto.wipe(&output)
        return result
    }

    /// `Array.withUnsafeBytes` with a typed error (the standard library's is `rethrows`).
    static func withBytes<R>(of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(OTPError) -> R) throws(OTPError) -> R {
        var outcome: Result<R, OTPError>?
        bytes.withUnsafeBytes { raw in
            do throws(OTPError) { outcome = .success(try body(raw)) } catch { outcome = .failure(error) }
        }
        return try outcome!.get()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension String {
    func trimmingSuffixNewline() -> String {
        var text = self
        while let last = text.last, last == "\n" || last == "\r" { text.removeLast() }
        return text
    }
}
