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
}

/// Decodes and checks Yubico OTPs: modhex → public id + AES-128 block → decrypt (OpenSSL, ECB) →
/// CRC residual → private id → counters strictly after the last accepted ones.
public enum YubicoOTP {
    /// Length of the encrypted part in modhex characters.
    public static let encryptedLength = 32

    /// Splits `otp` (modhex, 32 to 64 characters) into public id and block, and decrypts the block
    /// with `key`. Throws ``YubiOTPError/Code/otpCRCMismatch`` when the block does not pass its CRC
    /// (wrong key or corrupted OTP).
    public static func decrypt(_ otp: String, key: [UInt8]) throws(YubiOTPError) -> YubicoOTPToken {
        guard key.count == 16 else { throw YubiOTPError(.invalidArgument, "a Yubico OTP AES key is 16 bytes, got \(key.count)") }
        let text = otp.trimmingSuffixNewline()
        guard text.count >= encryptedLength, text.count <= encryptedLength + 32 else {
            throw YubiOTPError(.invalidModhex, "a Yubico OTP has 32 to 64 modhex characters, got \(text.count)")
        }
        let all = try Modhex.decode(text)
        let publicID = Array(all[0..<(all.count - 16)])
        let block = Array(all[(all.count - 16)...])
        let plain = try aes128DecryptBlock(block, key: key)
        guard YubiCRC.check(plain) else {
            throw YubiOTPError(.otpCRCMismatch, "the OTP does not decrypt to a valid block (wrong AES key or corrupted OTP)")
        }
        return YubicoOTPToken(
            publicID: publicID, privateID: Array(plain[0..<6]), usageCounter: UInt16(plain[6]) | UInt16(plain[7]) << 8,
            timestamp: UInt32(plain[8]) | UInt32(plain[9]) << 8 | UInt32(plain[10]) << 16, sessionCounter: plain[11],
            random: UInt16(plain[12]) | UInt16(plain[13]) << 8, crc: UInt16(plain[14]) | UInt16(plain[15]) << 8)
    }

    /// Decrypts and validates `otp`: the private id must match, the public id too when given, and
    /// (usage, session) must be strictly greater than `last` (lexicographically). Returns the token,
    /// whose counters become the new `last` once the caller has stored them.
    public static func validate(
        _ otp: String, key: [UInt8], privateID: [UInt8], publicID: [UInt8]? = nil, last: (usage: UInt16, session: UInt8)? = nil
    ) throws(YubiOTPError) -> YubicoOTPToken {
        let token = try decrypt(otp, key: key)
        if let publicID, publicID != token.publicID {
            throw YubiOTPError(.publicIDMismatch, "the OTP's public id \(Modhex.encode(token.publicID)) is not the expected one")
        }
        guard constantTimeEqual(token.privateID, privateID) else {
            throw YubiOTPError(.privateIDMismatch, "the OTP's private id does not match this token")
        }
        if let last {
            let newer = token.usageCounter > last.usage || (token.usageCounter == last.usage && token.sessionCounter > last.session)
            guard newer else {
                throw YubiOTPError(
                    .replayed,
                    "the OTP's counters (\(token.usageCounter), \(token.sessionCounter)) do not exceed the last accepted (\(last.usage), \(last.session))")
            }
        }
        return token
    }

    /// One AES-128-ECB block through OpenSSL's EVP interface (no padding).
    static func aes128DecryptBlock(_ block: [UInt8], key: [UInt8]) throws(YubiOTPError) -> [UInt8] {
        guard let context = EVP_CIPHER_CTX_new() else { throw YubiOTPError(.unexpectedResponse, "OpenSSL could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 32)
        var written: Int32 = 0
        var final: Int32 = 0
        let ok = key.withUnsafeBufferPointer { keyPointer in
            block.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    EVP_DecryptInit_ex(context, EVP_aes_128_ecb(), nil, keyPointer.baseAddress, nil) == 1
                        && EVP_CIPHER_CTX_set_padding(context, 0) == 1
                        && EVP_DecryptUpdate(context, out.baseAddress, &written, input.baseAddress, Int32(input.count)) == 1
                        && EVP_DecryptFinal_ex(context, out.baseAddress! + Int(written), &final) == 1
                }
            }
        }
        guard ok, written + final == 16 else { throw YubiOTPError(.unexpectedResponse, "AES-128 decryption failed in OpenSSL") }
        return Array(output[0..<16])
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
