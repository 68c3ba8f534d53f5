/// The example documents of RFC 6030, typed in from the RFC (layout reflowed). All three carry the
/// RFC 4226 test seed "12345678901234567890" for serial 987654321.
enum RFC6030 {
    /// Figure 2 (section 5): a plaintext HOTP key with its counter.
    static let plaintext = """
        <?xml version="1.0" encoding="UTF-8"?>
        <KeyContainer Version="1.0" Id="exampleID1" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
          <KeyPackage>
            <DeviceInfo>
              <Manufacturer>Manufacturer</Manufacturer>
              <SerialNo>987654321</SerialNo>
              <UserId>DC=example-bank,DC=net</UserId>
            </DeviceInfo>
            <CryptoModuleInfo>
              <Id>CM_ID_001</Id>
            </CryptoModuleInfo>
            <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
              <Issuer>Issuer</Issuer>
              <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
              </AlgorithmParameters>
              <Data>
                <Secret>
                  <PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=
                  </PlainValue>
                </Secret>
                <Counter>
                  <PlainValue>0</PlainValue>
                </Counter>
              </Data>
              <UserId>UID=jsmith,DC=example-bank,DC=net</UserId>
            </Key>
          </KeyPackage>
        </KeyContainer>
        """

    /// The pre-shared key of Figure 6.
    static let preSharedKeyHex = "12345678901234567890123456789012"

    /// Figure 6 (section 6.1): AES-128-CBC under a pre-shared key, HMAC-SHA1 ValueMAC under an encrypted MAC key.
    static let preSharedKey = """
        <?xml version="1.0" encoding="UTF-8"?>
        <KeyContainer Version="1.0"
            xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
            xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
            xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
          <EncryptionKey>
            <ds:KeyName>Pre-shared-key</ds:KeyName>
          </EncryptionKey>
          <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
            <MACKey>
              <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
              <xenc:CipherData>
                <xenc:CipherValue>
                  ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
              </xenc:CipherData>
            </MACKey>
          </MACMethod>
          <KeyPackage>
            <DeviceInfo>
              <Manufacturer>Manufacturer</Manufacturer>
              <SerialNo>987654321</SerialNo>
            </DeviceInfo>
            <CryptoModuleInfo>
              <Id>CM_ID_001</Id>
            </CryptoModuleInfo>
            <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
              <Issuer>Issuer</Issuer>
              <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
              </AlgorithmParameters>
              <Data>
                <Secret>
                  <EncryptedValue>
                    <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                    <xenc:CipherData>
                      <xenc:CipherValue>
                        AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                      </xenc:CipherValue>
                    </xenc:CipherData>
                  </EncryptedValue>
                  <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                  </ValueMAC>
                </Secret>
                <Counter>
                  <PlainValue>0</PlainValue>
                </Counter>
              </Data>
            </Key>
          </KeyPackage>
        </KeyContainer>
        """

    /// The passphrase of Figure 7.
    static let password = "qwerty"

    /// Figure 7 (section 6.2): a PBKDF2-derived key (salt, 1 000 iterations, 16 bytes), AES-128-CBC, HMAC-SHA1.
    static let pbkdf2 = """
        <?xml version="1.0" encoding="UTF-8"?>
        <pskc:KeyContainer
            xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"
            xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
            xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
            xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">
          <pskc:EncryptionKey>
            <xenc11:DerivedKey>
              <xenc11:KeyDerivationMethod
                  Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
                <pkcs5:PBKDF2-params>
                  <Salt>
                    <Specified>Ej7/PEpyEpw=</Specified>
                  </Salt>
                  <IterationCount>1000</IterationCount>
                  <KeyLength>16</KeyLength>
                  <PRF/>
                </pkcs5:PBKDF2-params>
              </xenc11:KeyDerivationMethod>
              <xenc:ReferenceList>
                <xenc:DataReference URI="#ED"/>
              </xenc:ReferenceList>
              <xenc11:MasterKeyName>My Password 1</xenc11:MasterKeyName>
            </xenc11:DerivedKey>
          </pskc:EncryptionKey>
          <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
            <pskc:MACKey>
              <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
              <xenc:CipherData>
                <xenc:CipherValue>
                  2GTTnLwM3I4e5IO5FkufoOEiOhNj91fhKRQBtBJYluUDsPOLTfUvoU2dStyOwYZx
                </xenc:CipherValue>
              </xenc:CipherData>
            </pskc:MACKey>
          </pskc:MACMethod>
          <pskc:KeyPackage>
            <pskc:DeviceInfo>
              <pskc:Manufacturer>TokenVendorAcme</pskc:Manufacturer>
              <pskc:SerialNo>987654321</pskc:SerialNo>
            </pskc:DeviceInfo>
            <pskc:CryptoModuleInfo>
              <pskc:Id>CM_ID_001</pskc:Id>
            </pskc:CryptoModuleInfo>
            <pskc:Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp" Id="123456">
              <pskc:Issuer>Example-Issuer</pskc:Issuer>
              <pskc:AlgorithmParameters>
                <pskc:ResponseFormat Length="8" Encoding="DECIMAL"/>
              </pskc:AlgorithmParameters>
              <pskc:Data>
                <pskc:Secret>
                  <pskc:EncryptedValue Id="ED">
                    <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                    <xenc:CipherData>
                      <xenc:CipherValue>
                        oTvo+S22nsmS2Z/RtcoF8Hfh+jzMe0RkiafpoDpnoZTjPYZu6V+A4aEn032yCr4f
                      </xenc:CipherValue>
                    </xenc:CipherData>
                  </pskc:EncryptedValue>
                  <pskc:ValueMAC>LP6xMvjtypbfT9PdkJhBZ+D6O4w=
                  </pskc:ValueMAC>
                </pskc:Secret>
              </pskc:Data>
            </pskc:Key>
          </pskc:KeyPackage>
        </pskc:KeyContainer>
        """
}
