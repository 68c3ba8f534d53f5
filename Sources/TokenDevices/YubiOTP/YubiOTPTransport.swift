/// Moves 8-byte feature reports to and from a YubiKey OTP interface.
public protocol YubiOTPTransport {
    /// GET_REPORT (feature, report id 0).
    func readReport() throws(USBError) -> [UInt8]
    /// SET_REPORT (feature, report id 0) of exactly 8 bytes.
    func writeReport(_ report: [UInt8]) throws(USBError)
}

/// The OTP interface of a USB device opened with libusb: HID class control transfers to interface 0.
///
/// The interface is claimed (detaching usbhid) by ``YubiOTPUSBTransport/init(handle:interface:)``
/// and released again (re-attaching usbhid, so the key types again) by ``close()``.
public final class YubiOTPUSBTransport: YubiOTPTransport {
    public let handle: USBDeviceHandle
    public let interface: UInt8
    let timeoutMilliseconds: UInt32

    public init(handle: USBDeviceHandle, interface: UInt8 = 0, timeoutMilliseconds: UInt32 = 1000) throws(USBError) {
        self.handle = handle
        self.interface = interface
        self.timeoutMilliseconds = timeoutMilliseconds
        try handle.claim(interface)
    }

    /// Releases the interface (the kernel driver comes back).
    public func close() {
        try? handle.release(interface)
    }

    public func readReport() throws(USBError) -> [UInt8] {
        try handle.getFeatureReport(length: YubiOTPFrame.reportSize, interface: interface, timeoutMilliseconds: timeoutMilliseconds)
    }

    public func writeReport(_ report: [UInt8]) throws(USBError) {
        try handle.setFeatureReport(report, interface: interface, timeoutMilliseconds: timeoutMilliseconds)
    }
}
