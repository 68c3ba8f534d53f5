import CLibUSB

/// A libusb context as seen from the ``USBClient`` thread: enumeration and opening devices.
///
/// Values of this type are handed to the closures that ``USBClient`` runs on its thread; they must
/// not escape them.
public struct USBContext {
    let raw: OpaquePointer

    /// Every USB device, with its descriptor and interfaces. With `readStrings`, each device is opened
    /// briefly to read its manufacturer, product and serial strings; a device that cannot be opened
    /// keeps nil strings and a ``USBDeviceInfo/stringsNote`` saying why.
    public func devices(readStrings: Bool = true) throws(USBError) -> [USBDeviceInfo] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try USBError.check(Int32(truncatingIfNeeded: libusb_get_device_list(raw, &list)), "list USB devices")
        defer { libusb_free_device_list(list, 1) }
        var result: [USBDeviceInfo] = []
        for index in 0..<Int(count) {
            guard let device = list?[index], var info = Self.describe(device) else { continue }
            if readStrings {
                var handle: OpaquePointer?
                let status = libusb_open(device, &handle)
                if status == 0, let handle {
                    info.manufacturer = Self.string(handle, index: Self.descriptor(device).iManufacturer)
                    info.product = Self.string(handle, index: Self.descriptor(device).iProduct)
                    info.serialNumber = Self.string(handle, index: Self.descriptor(device).iSerialNumber)
                    libusb_close(handle)
                } else {
                    info.stringsNote = USBError(rawValue: status).message
                }
            }
            result.append(info)
        }
        return result
    }

    /// Opens the device at `bus`/`address` (from ``devices(readStrings:)``). The kernel driver of an
    /// interface is detached only while that interface is claimed.
    public func open(bus: UInt8, address: UInt8) throws(USBError) -> USBDeviceHandle {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try USBError.check(Int32(truncatingIfNeeded: libusb_get_device_list(raw, &list)), "list USB devices")
        defer { libusb_free_device_list(list, 1) }
        for index in 0..<Int(count) {
            guard let device = list?[index], libusb_get_bus_number(device) == bus,
                libusb_get_device_address(device) == address, let info = Self.describe(device)
            else { continue }
            var handle: OpaquePointer?
            try USBError.check(libusb_open(device, &handle), "open \(info.id) on bus \(bus) address \(address)")
            guard let handle else { throw USBError.other.during("open \(info.id)") }
            // Linux only; elsewhere the call reports NOT_SUPPORTED and there is no driver to detach.
            _ = libusb_set_auto_detach_kernel_driver(handle, 1)
            return USBDeviceHandle(raw: handle, info: info)
        }
        throw USBError.noDevice.during("open the device on bus \(bus) address \(address)")
    }

    /// Opens the first device matching `filter`, e.g. a catalog entry and an optional serial number.
    public func open(where filter: (USBDeviceInfo) -> Bool) throws(USBError) -> USBDeviceHandle {
        guard let info = try devices(readStrings: true).first(where: filter) else {
            throw USBError.noDevice.during("find a matching USB token")
        }
        return try open(bus: info.bus, address: info.address)
    }

    static func descriptor(_ device: OpaquePointer) -> libusb_device_descriptor {
        var descriptor = libusb_device_descriptor()
        _ = libusb_get_device_descriptor(device, &descriptor)
        return descriptor
    }

    /// The descriptor-level facts of `device` (no I/O: libusb caches descriptors from sysfs).
    static func describe(_ device: OpaquePointer) -> USBDeviceInfo? {
        var descriptor = libusb_device_descriptor()
        guard libusb_get_device_descriptor(device, &descriptor) == 0 else { return nil }
        var interfaces: [USBInterfaceInfo] = []
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        if libusb_get_active_config_descriptor(device, &config) == 0 || libusb_get_config_descriptor(device, 0, &config) == 0,
            let config
        {
            defer { libusb_free_config_descriptor(config) }
            for i in 0..<Int(config.pointee.bNumInterfaces) {
                let interface = config.pointee.interface[i]
                guard interface.num_altsetting > 0, let alt = interface.altsetting?.pointee else { continue }
                var endpoints: [USBEndpointInfo] = []
                for e in 0..<Int(alt.bNumEndpoints) {
                    guard let ep = alt.endpoint?[e] else { continue }
                    endpoints.append(USBEndpointInfo(address: ep.bEndpointAddress, transferType: ep.bmAttributes & 3, maxPacketSize: ep.wMaxPacketSize))
                }
                interfaces.append(
                    USBInterfaceInfo(
                        number: alt.bInterfaceNumber, interfaceClass: alt.bInterfaceClass, interfaceSubClass: alt.bInterfaceSubClass,
                        interfaceProtocol: alt.bInterfaceProtocol, endpoints: endpoints))
            }
        }
        return USBDeviceInfo(
            bus: libusb_get_bus_number(device), address: libusb_get_device_address(device), vendorID: descriptor.idVendor,
            productID: descriptor.idProduct, deviceRelease: descriptor.bcdDevice, interfaces: interfaces)
    }

    static func string(_ handle: OpaquePointer, index: UInt8) -> String? {
        guard index != 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer {
            libusb_get_string_descriptor_ascii(handle, index, $0.baseAddress, Int32($0.count))
        }
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }
}
