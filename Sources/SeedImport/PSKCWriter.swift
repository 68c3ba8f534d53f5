import Foundation
import OTP

/// Writes PSKC files: the benchmark's and the tests' own generator (python-pskc is the independent
/// one). Plaintext, or AES-CBC under a pre-shared key with HMAC `ValueMAC`s under an encrypted
/// random `MACKey`.
public struct PSKCWriter {
    /// One token to write. The seed is taken as given (the writer is for test and benchmark data).
    public struct Token: Sendable {
        public var serial: String
        public var type: OTPType
        public var seed: [UInt8]
        public var digits: Int
        public var counter: Int64
        public var period: Int64
        public var suite: String?

        public init(serial: String, type: OTPType, seed: [UInt8], digits: Int = 6, counter: Int64 = 0, period: Int64 = 30, suite: String? = nil) {
            self.serial = serial
            self.type = type
            self.seed = seed
            self.digits = digits
            self.counter = counter
            self.period = period
            self.suite = suite
        }
    }

    let preSharedKey: [UInt8]?
    let macKey: [UInt8]
    let macAlgorithm: HashAlgorithm

    /// A writer encrypting under `preSharedKey` (AES-128/192/256-CBC by its length), or plaintext when nil.
    public init(preSharedKey: [UInt8]?, macAlgorithm: HashAlgorithm = .sha1) {
        self.preSharedKey = preSharedKey
        self.macAlgorithm = macAlgorithm
        macKey = LibCrypto.randomBytes(macAlgorithm.digestBytes)
    }

    var cipherURI: String { "http://www.w3.org/2001/04/xmlenc#aes\((preSharedKey?.count ?? 16) * 8)-cbc" }
    var macURI: String {
        macAlgorithm == .sha1 ? "http://www.w3.org/2000/09/xmldsig#hmac-sha1" : "http://www.w3.org/2001/04/xmldsig-more#hmac-\(macAlgorithm.rawValue)"
    }

    /// The opening of the container (with the encryption key and MAC method when encrypting).
    public func header() -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        out += #"<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">"# + "\n"
        if let preSharedKey {
            let wrapped = Data(TransportCrypto.encryptCBC(key: preSharedKey, macKey)).base64EncodedString()
            out += "<pskc:EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></pskc:EncryptionKey>\n"
            out += "<pskc:MACMethod Algorithm=\"\(macURI)\"><pskc:MACKey><xenc:EncryptionMethod Algorithm=\"\(cipherURI)\"/>"
            out += "<xenc:CipherData><xenc:CipherValue>\(wrapped)</xenc:CipherValue></xenc:CipherData></pskc:MACKey></pskc:MACMethod>\n"
        }
        return out
    }

    /// One KeyPackage.
    public func package(_ token: Token) -> String {
        let algorithm = token.type == .hotp ? "urn:ietf:params:xml:ns:keyprov:pskc:hotp" : "urn:ietf:params:xml:ns:keyprov:pskc#totp"
        var out = "<pskc:KeyPackage><pskc:DeviceInfo><pskc:Manufacturer>mfa-bridge</pskc:Manufacturer><pskc:SerialNo>\(token.serial)</pskc:SerialNo></pskc:DeviceInfo>"
        out += "<pskc:Key Id=\"\(token.serial)\" Algorithm=\"\(algorithm)\"><pskc:AlgorithmParameters>"
        if let suite = token.suite { out += "<pskc:Suite>\(suite)</pskc:Suite>" }
        out += "<pskc:ResponseFormat Length=\"\(token.digits)\" Encoding=\"DECIMAL\"/></pskc:AlgorithmParameters><pskc:Data><pskc:Secret>"
        if let preSharedKey {
            let cipher = TransportCrypto.encryptCBC(key: preSharedKey, token.seed)
            let mac = LibCrypto.hmac(macAlgorithm, key: macKey, message: cipher)
            out += "<pskc:EncryptedValue><xenc:EncryptionMethod Algorithm=\"\(cipherURI)\"/><xenc:CipherData><xenc:CipherValue>"
            out += Data(cipher).base64EncodedString() + "</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue>"
            out += "<pskc:ValueMAC>\(Data(mac).base64EncodedString())</pskc:ValueMAC>"
        } else {
            out += "<pskc:PlainValue>\(Data(token.seed).base64EncodedString())</pskc:PlainValue>"
        }
        out += "</pskc:Secret>"
        if token.type == .hotp {
            out += "<pskc:Counter><pskc:PlainValue>\(token.counter)</pskc:PlainValue></pskc:Counter>"
        } else {
            out += "<pskc:TimeInterval><pskc:PlainValue>\(token.period)</pskc:PlainValue></pskc:TimeInterval>"
        }
        out += "</pskc:Data></pskc:Key></pskc:KeyPackage>\n"
        return out
    }

    public func footer() -> String { "</pskc:KeyContainer>\n" }

    /// A whole file.
    public func document(_ tokens: [Token]) -> String {
        header() + tokens.map(package).joined() + footer()
    }
}
