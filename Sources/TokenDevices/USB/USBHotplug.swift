import CLibUSB
import Foundation

/// A device arriving or leaving.
public enum USBHotplugEvent: Sendable, Hashable {
    case arrived(USBDeviceInfo)
    case left(USBDeviceInfo)
}

/// One hotplug subscription: a libusb callback, or a polling thread where libusb has no hotplug.
final class HotplugWatcher: @unchecked Sendable {
    let continuation: AsyncStream<USBHotplugEvent>.Continuation
    var handle: libusb_hotplug_callback_handle = 0
    var registered = false
    private let stopLock = NSLock()
    private var stopped = false

    init(continuation: AsyncStream<USBHotplugEvent>.Continuation) {
        self.continuation = continuation
    }

    var isStopped: Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        return stopped
    }

    /// Deregisters the callback (under the lock, so ``USBClient/close()`` cannot free the context
    /// meanwhile) and ends the stream. Idempotent.
    func stop(context: OpaquePointer?) {
        stopLock.lock()
        guard !stopped else {
            stopLock.unlock()
            return
        }
        stopped = true
        if registered, let context { libusb_hotplug_deregister_callback(context, handle) }
        stopLock.unlock()
        continuation.finish()
    }
}

/// The C callback: `user_data` is the unretained watcher, which the client keeps alive until it
/// deregisters the callback.
private func hotplugCallback(
    _ context: OpaquePointer?, _ device: OpaquePointer?, _ event: libusb_hotplug_event, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let userData, let device else { return 0 }
    let watcher = Unmanaged<HotplugWatcher>.fromOpaque(userData).takeUnretainedValue()
    guard !watcher.isStopped, let info = USBContext.describe(device) else { return 0 }
    if event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED {
        watcher.continuation.yield(.arrived(info))
    } else {
        watcher.continuation.yield(.left(info))
    }
    return 0
}

extension USBClient {
    /// Devices arriving and leaving, starting with an `.arrived` for every device already present.
    /// Uses libusb hotplug callbacks (dispatched by the event thread) where libusb supports them,
    /// otherwise (or with `forcePolling`) compares device lists every `pollInterval`. Ends when the
    /// client closes or the consumer stops iterating.
    public func hotplugEvents(pollInterval: Duration = .seconds(1), forcePolling: Bool = false) -> AsyncStream<USBHotplugEvent> {
        let (stream, continuation) = AsyncStream<USBHotplugEvent>.makeStream(bufferingPolicy: .unbounded)
        let watcher = HotplugWatcher(continuation: continuation)
        guard let context = rawContext, !isStopping else {
            continuation.finish()
            return stream
        }
        if supportsHotplug && !forcePolling {
            let events = Int32(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED.rawValue | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT.rawValue)
            let status = libusb_hotplug_register_callback(
                context, events, Int32(LIBUSB_HOTPLUG_ENUMERATE.rawValue), LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                LIBUSB_HOTPLUG_MATCH_ANY, hotplugCallback, Unmanaged.passUnretained(watcher).toOpaque(), &watcher.handle)
            if status == 0 {
                watcher.registered = true
                addWatcher(watcher)
                // libusb allows deregistering from any thread; close() stops every watcher before
                // libusb_exit, after which this is a no-op.
                nonisolated(unsafe) let registeredContext = context
                continuation.onTermination = { _ in watcher.stop(context: registeredContext) }
                return stream
            }
        }
        // Poll fallback.
        addWatcher(watcher)
        let interval = Double(pollInterval.components.seconds) + Double(pollInterval.components.attoseconds) / 1e18
        let thread = Thread { [weak self] in
            var known: [String: USBDeviceInfo] = [:]
            while let self, !self.isStopping, !watcher.isStopped {
                if let now = try? self.performBlocking({ try $0.devices(readStrings: false) }) {
                    let current = Dictionary(now.map { ("\($0.bus)/\($0.address)", $0) }, uniquingKeysWith: { a, _ in a })
                    for (key, info) in current where known[key] == nil { continuation.yield(.arrived(info)) }
                    for (key, info) in known where current[key] == nil { continuation.yield(.left(info)) }
                    known = current
                }
                Thread.sleep(forTimeInterval: interval)
            }
            watcher.stop(context: nil)
        }
        thread.name = "libusb-poll"
        thread.start()
        continuation.onTermination = { _ in watcher.stop(context: nil) }
        return stream
    }
}
