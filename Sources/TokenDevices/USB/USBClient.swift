import CLibUSB
import Foundation

/// Owns one libusb context, a worker thread that runs every blocking libusb call, and an event
/// thread that dispatches libusb events (hotplug callbacks, transfer completions).
///
/// Like ``PCSCClient``: work is submitted as closures receiving the thread-confined ``USBContext``;
/// `await perform { … }` suspends the caller meanwhile, so no libusb call ever blocks Swift's
/// cooperative pool. ``close()`` stops both threads and waits for them before `libusb_exit`.
public final class USBClient: @unchecked Sendable {
    /// Guards `stopping` and `watchers`.
    private let lock = NSLock()
    private var stopping = false
    private let worker: JobThread
    private var eventThread: Thread?
    private let eventsFinished = DispatchSemaphore(value: 0)
    /// Written once on the worker before `init` returns; read-only afterwards until `close`.
    private let context = ThreadValue<OpaquePointer?>(nil)
    /// Hotplug registrations and poll watchers, for teardown.
    var watchers: [HotplugWatcher] = []

    /// Initialises libusb on the worker thread and starts the event thread.
    public init() throws(USBError) {
        worker = try JobThread(name: "libusb", setUp: { [context] () throws(USBError) in
            var raw: OpaquePointer?
            let status = libusb_init(&raw)
            guard status == 0, let raw else {
                throw USBError(rawValue: status == 0 ? LIBUSB_ERROR_OTHER.rawValue : status, operation: "initialise libusb")
            }
            if let level = ProcessInfo.processInfo.environment["MFA_LIBUSB_DEBUG"].flatMap(Int32.init) {
                _ = mfa_libusb_set_log_level(raw, level)
            }
            context.value = raw
        }, tearDown: {})

        let events = Thread { [unowned self] in
            self.eventLoop()
            self.eventsFinished.signal()
        }
        events.name = "libusb-events"
        events.stackSize = 1 << 19
        eventThread = events
        events.start()
    }

    deinit { close() }

    /// Whether this libusb delivers hotplug events (else ``hotplugEvents(pollInterval:)`` polls).
    public var supportsHotplug: Bool { libusb_has_capability(UInt32(LIBUSB_CAP_HAS_HOTPLUG.rawValue)) != 0 }

    /// Stops the watchers and both threads after the queued work, then frees the context. Idempotent.
    public func close() {
        let (first, watchers) = lock.withLock {
            let first = !stopping
            stopping = true
            let watchers = self.watchers
            self.watchers = []
            return (first, watchers)
        }
        guard first else { return }
        let context = self.context.value
        for watcher in watchers { watcher.stop(context: context) }
        if let context { libusb_interrupt_event_handler(context) }
        if eventThread != nil { eventsFinished.wait() }
        guard worker.stop(), !worker.isCurrent else { return }
        if let context { libusb_exit(context) }
        self.context.value = nil
    }

    var isStopping: Bool { lock.withLock { stopping } }

    var rawContext: OpaquePointer? { context.value }

    func addWatcher(_ watcher: HotplugWatcher) {
        lock.lock()
        defer { lock.unlock() }
        if stopping {
            watcher.stop(context: nil)
        } else {
            watchers.append(watcher)
        }
    }

    /// Runs `body` on the libusb thread and waits for it (for synchronous callers such as the CLI).
    public func performBlocking<T>(_ body: (USBContext) throws -> T) throws -> T {
        guard let context = context.value else { throw USBError.closed }
        return try worker.runBlocking(closed: USBError.closed) { try body(USBContext(raw: context)) }
    }

    /// Runs `body` on the libusb thread; the calling task suspends meanwhile.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (USBContext) throws -> T) async throws -> T {
        guard context.value != nil else { throw USBError.closed }
        return try await worker.run(closed: USBError.closed) { [context] in
            // Jobs run before the worker stops, so before the context is freed.
            guard let raw = context.value else { throw USBError.closed }
            return try body(USBContext(raw: raw))
        }
    }

    private func eventLoop() {
        guard let context = context.value else { return }
        while !isStopping {
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            _ = libusb_handle_events_timeout_completed(context, &tv, nil)
        }
    }
}
