/// A USB device as enumeration sees it: where it is, what it claims to be, and its interfaces.
public struct USBDeviceInfo: Sendable, Hashable, Codable {
    /// Bus number (1-based on Linux).
    public let bus: UInt8
    /// Device address on the bus.
    public let address: UInt8
    /// `idVendor` from the device descriptor.
    public let vendorID: UInt16
    /// `idProduct` from the device descriptor.
    public let productID: UInt16
    /// `bcdDevice`: the device release number (firmware-ish for many tokens).
    public let deviceRelease: UInt16
    /// The manufacturer string descriptor, when the device could be opened to read it.
    public var manufacturer: String?
    /// The product string descriptor, when the device could be opened to read it.
    public var product: String?
    /// The serial number string descriptor, when present and readable.
    public var serialNumber: String?
    /// Interfaces of the active configuration (first alternate setting of each).
    public let interfaces: [USBInterfaceInfo]
    /// Why the strings are missing (e.g. the access message), when they are.
    public var stringsNote: String?

    public init(
        bus: UInt8, address: UInt8, vendorID: UInt16, productID: UInt16, deviceRelease: UInt16,
        manufacturer: String? = nil, product: String? = nil, serialNumber: String? = nil,
        interfaces: [USBInterfaceInfo] = [], stringsNote: String? = nil
    ) {
        self.bus = bus
        self.address = address
        self.vendorID = vendorID
        self.productID = productID
        self.deviceRelease = deviceRelease
        self.manufacturer = manufacturer
        self.product = product
        self.serialNumber = serialNumber
        self.interfaces = interfaces
        self.stringsNote = stringsNote
    }

    /// `vvvv:pppp` in lowercase hex, as lsusb prints it.
    public var id: String { USBDeviceInfo.hex4(vendorID) + ":" + USBDeviceInfo.hex4(productID) }

    static func hex4(_ value: UInt16) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

/// One interface of a USB configuration.
public struct USBInterfaceInfo: Sendable, Hashable, Codable {
    public let number: UInt8
    public let interfaceClass: UInt8
    public let interfaceSubClass: UInt8
    public let interfaceProtocol: UInt8
    public let endpoints: [USBEndpointInfo]

    public init(number: UInt8, interfaceClass: UInt8, interfaceSubClass: UInt8, interfaceProtocol: UInt8, endpoints: [USBEndpointInfo]) {
        self.number = number
        self.interfaceClass = interfaceClass
        self.interfaceSubClass = interfaceSubClass
        self.interfaceProtocol = interfaceProtocol
        self.endpoints = endpoints
    }

    /// HID class (3).
    public var isHID: Bool { interfaceClass == 0x03 }
    /// HID boot keyboard (class 3, subclass 1, protocol 1): the YubiKey OTP interface.
    public var isBootKeyboard: Bool { interfaceClass == 0x03 && interfaceSubClass == 0x01 && interfaceProtocol == 0x01 }
    /// Smart card (CCID, class 0x0B).
    public var isCCID: Bool { interfaceClass == 0x0B }
}

/// One endpoint of an interface.
public struct USBEndpointInfo: Sendable, Hashable, Codable {
    /// `bEndpointAddress`: bit 7 set for IN endpoints.
    public let address: UInt8
    /// `bmAttributes & 3`: 0 control, 1 isochronous, 2 bulk, 3 interrupt.
    public let transferType: UInt8
    public let maxPacketSize: UInt16

    public init(address: UInt8, transferType: UInt8, maxPacketSize: UInt16) {
        self.address = address
        self.transferType = transferType
        self.maxPacketSize = maxPacketSize
    }

    public var isIn: Bool { address & 0x80 != 0 }
    public var isInterrupt: Bool { transferType == 3 }
}
