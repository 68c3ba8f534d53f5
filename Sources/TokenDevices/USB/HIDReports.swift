/// HID class requests over the control endpoint (HID 1.11 §7.2), for devices driven through libusb
/// rather than hidraw.
public enum HIDReportType: UInt8, Sendable {
    case input = 1, output = 2, feature = 3
}

extension USBDeviceHandle {
    /// bmRequestType for a class request to an interface, host to device (0x21) and back (0xA1).
    static let hidOut: UInt8 = 0x21
    static let hidIn: UInt8 = 0xA1
    /// HID class bRequest codes.
    static let getReport: UInt8 = 0x01
    static let setReport: UInt8 = 0x09

    /// SET_REPORT of a feature report to `interface`. Throws ``USBError/shortTransfer`` when the device
    /// took fewer bytes than sent.
    public func setFeatureReport(
        _ report: [UInt8], reportID: UInt8 = 0, interface: UInt8, timeoutMilliseconds: UInt32 = 1000
    ) throws(USBError) {
        let sent = try controlOut(
            requestType: Self.hidOut, request: Self.setReport, value: UInt16(HIDReportType.feature.rawValue) << 8 | UInt16(reportID),
            index: UInt16(interface), data: report, timeoutMilliseconds: timeoutMilliseconds)
        if sent != report.count { throw USBError.shortTransfer.during("SET_REPORT to \(info.id): \(sent) of \(report.count) bytes") }
    }

    /// GET_REPORT of a feature report of `length` bytes from `interface`. Throws
    /// ``USBError/shortTransfer`` when the device answers with fewer bytes.
    public func getFeatureReport(
        length: Int, reportID: UInt8 = 0, interface: UInt8, timeoutMilliseconds: UInt32 = 1000
    ) throws(USBError) -> [UInt8] {
        let report = try controlIn(
            requestType: Self.hidIn, request: Self.getReport, value: UInt16(HIDReportType.feature.rawValue) << 8 | UInt16(reportID),
            index: UInt16(interface), length: length, timeoutMilliseconds: timeoutMilliseconds)
        if report.count != length {
            throw USBError.shortTransfer.during("GET_REPORT from \(info.id): \(report.count) of \(length) bytes")
        }
        return report
    }
}
