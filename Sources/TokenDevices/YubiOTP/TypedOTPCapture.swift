/// Captures what a token types on its keyboard interface (an OTP followed by Enter) by claiming the
/// interface and reading its interrupt-IN endpoint, so the keystrokes reach this program instead of
/// the focused window. The kernel driver is re-attached afterwards.
public enum TypedOTPCapture {
    /// Reads keyboard reports from `interface` (the OTP interface, 0 on a YubiKey) until Enter, and
    /// returns the typed line. Throws ``YubiOTPError/Code/timeout`` when nothing was typed within
    /// `timeout`, ``YubiOTPError/Code/captureFailed`` for a partial line or keys that are not text.
    public static func capture(
        _ handle: USBDeviceHandle, interface: UInt8 = 0, timeout: Duration = .seconds(15)
    ) throws(YubiOTPError) -> String {
        guard let description = handle.info.interfaces.first(where: { $0.number == interface }),
            let endpoint = description.endpoints.first(where: { $0.isIn && $0.isInterrupt })
        else {
            throw YubiOTPError(.unexpectedResponse, "interface \(interface) of \(handle.info.id) has no interrupt-IN endpoint")
        }
        do throws(USBError) {
            try handle.claim(interface)
        } catch {
            throw YubiOTPError(error)
        }
        defer { try? handle.release(interface) }
        var decoder = HIDKeyboardDecoder()
        let deadline = ContinuousClock.now + timeout
        while !decoder.finished {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                if decoder.text.isEmpty {
                    throw YubiOTPError(.timeout, "nothing was typed within \(timeout) (touch the key)")
                }
                throw YubiOTPError(.captureFailed, "the key stopped typing before Enter (\(decoder.text.count) characters)")
            }
            let slice = min(left, .milliseconds(250))
            let milliseconds = UInt32(max(1, slice.components.seconds * 1000 + slice.components.attoseconds / 1_000_000_000_000_000))
            do throws(USBError) {
                let report = try handle.interruptRead(
                    endpoint: endpoint.address, length: Int(max(8, endpoint.maxPacketSize)), timeoutMilliseconds: milliseconds)
                decoder.feed(report)
            } catch where error == .timeout {
                continue
            } catch {
                throw YubiOTPError(error)
            }
        }
        guard decoder.unknownUsages.isEmpty else {
            throw YubiOTPError(.captureFailed, "the key typed keys that are not text: usages \(decoder.unknownUsages)")
        }
        return decoder.text
    }
}
