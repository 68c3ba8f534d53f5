/// What a USB token offers, by interface.
public struct TokenInterfaces: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A keyboard that types OTPs and takes feature reports (YubiKey OTP interface).
    public static let otp = TokenInterfaces(rawValue: 1)
    /// FIDO U2F / FIDO2 HID.
    public static let fido = TokenInterfaces(rawValue: 2)
    /// Smart card (CCID): OATH, PIV, OpenPGP over PC/SC.
    public static let ccid = TokenInterfaces(rawValue: 4)

    /// "OTP+FIDO+CCID".
    public var names: [String] {
        var names: [String] = []
        if contains(.otp) { names.append("OTP") }
        if contains(.fido) { names.append("FIDO") }
        if contains(.ccid) { names.append("CCID") }
        return names
    }
}

/// One supported token model. `productID` nil means every product of the vendor.
public struct TokenModel: Sendable, Hashable {
    public let vendorID: UInt16
    public let productID: UInt16?
    public let vendor: String
    public let model: String
    public let interfaces: TokenInterfaces

    /// Whether `vendorID:productID` is this model.
    public func matches(vendorID: UInt16, productID: UInt16) -> Bool {
        self.vendorID == vendorID && (self.productID == nil || self.productID == productID)
    }

    /// `1050:0407`, or `096e:*` for a vendor-wide entry.
    public var id: String {
        USBDeviceInfo.hex4(vendorID) + ":" + (productID.map(USBDeviceInfo.hex4) ?? "*")
    }
}

/// The one table of supported USB tokens; the udev rules (`udev/70-mfa-tokens.rules`) are rendered
/// from it (``udevRules``) and a test keeps the two in step.
public enum TokenCatalog {
    public static let models: [TokenModel] = yubico + nitrokey + others

    static let yubico: [TokenModel] = [
        m(0x1050, 0x0010, "Yubico", "YubiKey 1/2", .otp),
        m(0x1050, 0x0110, "Yubico", "YubiKey NEO OTP", .otp),
        m(0x1050, 0x0111, "Yubico", "YubiKey NEO OTP+CCID", [.otp, .ccid]),
        m(0x1050, 0x0112, "Yubico", "YubiKey NEO CCID", .ccid),
        m(0x1050, 0x0113, "Yubico", "YubiKey NEO FIDO", .fido),
        m(0x1050, 0x0114, "Yubico", "YubiKey NEO OTP+FIDO", [.otp, .fido]),
        m(0x1050, 0x0115, "Yubico", "YubiKey NEO FIDO+CCID", [.fido, .ccid]),
        m(0x1050, 0x0116, "Yubico", "YubiKey NEO OTP+FIDO+CCID", [.otp, .fido, .ccid]),
        m(0x1050, 0x0120, "Yubico", "Security Key", .fido),
        m(0x1050, 0x0401, "Yubico", "YubiKey 4/5 OTP", .otp),
        m(0x1050, 0x0402, "Yubico", "YubiKey 4/5 FIDO", .fido),
        m(0x1050, 0x0403, "Yubico", "YubiKey 4/5 OTP+FIDO", [.otp, .fido]),
        m(0x1050, 0x0404, "Yubico", "YubiKey 4/5 CCID", .ccid),
        m(0x1050, 0x0405, "Yubico", "YubiKey 4/5 OTP+CCID", [.otp, .ccid]),
        m(0x1050, 0x0406, "Yubico", "YubiKey 4/5 FIDO+CCID", [.fido, .ccid]),
        m(0x1050, 0x0407, "Yubico", "YubiKey 4/5 OTP+FIDO+CCID", [.otp, .fido, .ccid]),
    ]

    static let nitrokey: [TokenModel] = [
        m(0x20A0, 0x4108, "Nitrokey", "Nitrokey Pro", .ccid),
        m(0x20A0, 0x4109, "Nitrokey", "Nitrokey Storage", .ccid),
        m(0x20A0, 0x4211, "Nitrokey", "Nitrokey Start", .ccid),
        m(0x20A0, 0x42B1, "Nitrokey", "Nitrokey FIDO2", .fido),
        m(0x20A0, 0x42B2, "Nitrokey", "Nitrokey 3", [.fido, .ccid]),
    ]

    static let others: [TokenModel] = [
        m(0x096E, nil, "Feitian", "Feitian token (any product)", [.fido, .ccid]),
        m(0x349E, nil, "Token2", "Token2 key (any product)", [.fido, .ccid]),
        m(0x1D50, 0x60FC, "CryptoTrust", "OnlyKey", [.otp, .fido]),
        m(0x0483, 0xA2CA, "SoloKeys", "Solo (STM32 id)", .fido),
        m(0x1209, 0x5070, "SoloKeys", "Solo", .fido),
        m(0x1209, 0xBEEE, "SoloKeys", "Solo 2", [.fido, .ccid]),
    ]

    private static func m(_ vendor: UInt16, _ product: UInt16?, _ vendorName: String, _ model: String, _ interfaces: TokenInterfaces) -> TokenModel {
        TokenModel(vendorID: vendor, productID: product, vendor: vendorName, model: model, interfaces: interfaces)
    }

    /// The model of `vendorID:productID`: an exact entry first, then a vendor-wide one.
    public static func model(vendorID: UInt16, productID: UInt16) -> TokenModel? {
        models.first { $0.productID == productID && $0.vendorID == vendorID }
            ?? models.first { $0.productID == nil && $0.vendorID == vendorID }
    }

    /// The model of an enumerated device.
    public static func model(for device: USBDeviceInfo) -> TokenModel? {
        model(vendorID: device.vendorID, productID: device.productID)
    }

    /// The udev rules file giving the logged-in user (`uaccess`) and the plugdev group access to
    /// every catalog token, both as USB device (libusb) and as hidraw node.
    public static var udevRules: String {
        var lines = [
            "# mfa-bridge: access to supported MFA tokens for the logged-in user (uaccess) and group plugdev.",
            "# Generated from TokenCatalog (mfactl hid udev-rules); install to /etc/udev/rules.d/ and run",
            "# `udevadm control --reload && udevadm trigger`. The file sorts before 73-seat-late.rules, which",
            "# turns the uaccess tag into an ACL.",
            "",
            "ACTION==\"remove\", GOTO=\"mfa_tokens_end\"",
            "",
        ]
        for model in models {
            let vendor = USBDeviceInfo.hex4(model.vendorID)
            var usb = "SUBSYSTEM==\"usb\", ATTR{idVendor}==\"\(vendor)\""
            var hid = "KERNEL==\"hidraw*\", SUBSYSTEM==\"hidraw\", ATTRS{idVendor}==\"\(vendor)\""
            if let product = model.productID {
                usb += ", ATTR{idProduct}==\"\(USBDeviceInfo.hex4(product))\""
                hid += ", ATTRS{idProduct}==\"\(USBDeviceInfo.hex4(product))\""
            }
            let access = ", TAG+=\"uaccess\", GROUP=\"plugdev\", MODE=\"0660\""
            lines.append("# \(model.vendor) \(model.model) (\(model.interfaces.names.joined(separator: "+")))")
            lines.append(usb + access)
            lines.append(hid + access)
        }
        lines += ["", "LABEL=\"mfa_tokens_end\""]
        return lines.joined(separator: "\n") + "\n"
    }
}
