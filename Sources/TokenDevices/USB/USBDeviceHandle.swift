import CLibUSB

/// An open USB device. Lives on the ``USBClient`` thread that opened it (not `Sendable`); closed by
/// ``close()`` or when released.
///
/// Interfaces are claimed with ``claim(_:)`` and released with ``release(_:)``; with libusb's
/// auto-detach the kernel driver (usbhid for the OTP keyboard) is detached only while the interface
/// is claimed, and re-attached on release, so the token types again afterwards.
public final class USBDeviceHandle {
    private(set) var raw: OpaquePointer?
    /// The device as enumerated when it was opened.
    public let info: USBDeviceInfo
    private var claimed: Set<UInt8> = []

    init(raw: OpaquePointer, info: USBDeviceInfo) {
        self.raw = raw
        self.info = info
    }

    deinit { close() }

    /// Releases every claimed interface (re-attaching kernel drivers) and closes the device. Idempotent.
    public func close() {
        guard let raw else { return }
        for number in claimed { _ = libusb_release_interface(raw, Int32(number)) }
        claimed = []
        libusb_close(raw)
        self.raw = nil
    }

    private func handle(_ operation: @autoclosure () -> String) throws(USBError) -> OpaquePointer {
        guard let raw else { throw USBError.closed.during(operation()) }
        return raw
    }

    /// Whether a kernel driver is bound to `interface` (false when libusb cannot tell).
    public func kernelDriverActive(_ interface: UInt8) -> Bool {
        guard let raw else { return false }
        return libusb_kernel_driver_active(raw, Int32(interface)) == 1
    }

    /// Claims `interface`, detaching its kernel driver for as long as it is claimed.
    public func claim(_ interface: UInt8) throws(USBError) {
        let raw = try handle("claim interface \(interface)")
        guard !claimed.contains(interface) else { return }
        try USBError.check(libusb_claim_interface(raw, Int32(interface)), "claim interface \(interface) of \(info.id)")
        claimed.insert(interface)
    }

    /// Releases `interface` and re-attaches its kernel driver.
    public func release(_ interface: UInt8) throws(USBError) {
        let raw = try handle("release interface \(interface)")
        guard claimed.remove(interface) != nil else { return }
        try USBError.check(libusb_release_interface(raw, Int32(interface)), "release interface \(interface) of \(info.id)")
    }

    /// Runs `body` with `interface` claimed, releasing it afterwards whatever happens.
    public func withInterface<T, E: Error>(_ interface: UInt8, _ body: () throws(E) -> T) throws -> T {
        try claim(interface)
        defer { try? release(interface) }
        return try body()
    }

    /// A control transfer that sends `data` (host to device). Returns the number of bytes sent.
    @discardableResult
    public func controlOut(
        requestType: UInt8, request: UInt8, value: UInt16, index: UInt16, data: [UInt8], timeoutMilliseconds: UInt32
    ) throws(USBError) -> Int {
        let raw = try handle("control transfer")
        var copy = data
        let result = copy.withUnsafeMutableBufferPointer {
            libusb_control_transfer(raw, requestType, request, value, index, $0.baseAddress, UInt16($0.count), timeoutMilliseconds)
        }
        return Int(try USBError.check(result, "control transfer \(Self.hex(request)) to \(info.id)"))
    }

    /// A control transfer that reads up to `length` bytes (device to host).
    public func controlIn(
        requestType: UInt8, request: UInt8, value: UInt16, index: UInt16, length: Int, timeoutMilliseconds: UInt32
    ) throws(USBError) -> [UInt8] {
        let raw = try handle("control transfer")
        var buffer = [UInt8](repeating: 0, count: length)
        let result = buffer.withUnsafeMutableBufferPointer {
            libusb_control_transfer(raw, requestType, request, value, index, $0.baseAddress, UInt16($0.count), timeoutMilliseconds)
        }
        let count = Int(try USBError.check(result, "control transfer \(Self.hex(request)) from \(info.id)"))
        return Array(buffer[0..<count])
    }

    /// Reads one interrupt-IN packet of at most `length` bytes from `endpoint` (bit 7 set).
    /// Throws ``USBError/timeout`` when nothing arrives within `timeoutMilliseconds`.
    public func interruptRead(endpoint: UInt8, length: Int, timeoutMilliseconds: UInt32) throws(USBError) -> [UInt8] {
        let raw = try handle("interrupt read")
        var buffer = [UInt8](repeating: 0, count: length)
        var transferred: Int32 = 0
        let result = buffer.withUnsafeMutableBufferPointer {
            libusb_interrupt_transfer(raw, endpoint | 0x80, $0.baseAddress, Int32($0.count), &transferred, timeoutMilliseconds)
        }
        try USBError.check(result, "read endpoint \(Self.hex(endpoint | 0x80)) of \(info.id)")
        return Array(buffer[0..<Int(transferred)])
    }

    static func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}
