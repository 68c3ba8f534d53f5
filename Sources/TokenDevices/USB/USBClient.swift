import CLibUSB
import Foundation

/// Owns one libusb context, a worker thread that runs every blocking libusb call, and an event
/// thread that dispatches libusb events (hotplug callbacks, transfer completions).
///
/// Like ``PCSCClient``: work is submitted as closures receiving the thread-confined ``USBContext``;
/// `await perform { … }` suspends the caller meanwhile, so no libusb call ever blocks Swift's
/// cooperative pool. ``close()`` stops both threads and waits for them before `libusb_exit`.
public final class USBClient: @unchecked Sendable {
    private let lock = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var worker: Thread?
    private var eventThread: Thread?
    private let workerFinished = DispatchSemaphore(value: 0)
    private let eventsFinished = DispatchSemaphore(value: 0)
    /// Written once before `init` returns; read-only afterwards until `close`.
    private var context: OpaquePointer?
    /// Hotplug registrations and poll watchers, for teardown.
    var watchers: [HotplugWatcher] = []

    /// Initialises libusb on the worker thread and starts the event thread.
    public init() throws(USBError) {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: USBError?
        let worker = Thread { [unowned self] in
            var raw: OpaquePointer?
            let status = libusb_init(&raw)
            if status != 0 || raw == nil {
                failure = USBError(rawValue: status == 0 ? LIBUSB_ERROR_OTHER.rawValue : status, operation: "initialise libusb")
                self.workerFinished.signal()
                ready.signal()
                return
            }
            if let level = ProcessInfo.processInfo.environment["MFA_LIBUSB_DEBUG"].flatMap(Int32.init) {
                _ = mfa_libusb_set_log_level(raw, level)
            }
            self.context = raw
            ready.signal()
            self.runLoop()
            self.workerFinished.signal()
        }
        worker.name = "libusb"
        worker.stackSize = 1 << 20
        self.worker = worker
        worker.start()
        ready.wait()
        if let failure { throw failure }

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
        lock.lock()
        let first = !stopping
        stopping = true
        let watchers = self.watchers
        self.watchers = []
        lock.broadcast()
        lock.unlock()
        guard first else { return }
        for watcher in watchers { watcher.stop(context: context) }
        if let context { libusb_interrupt_event_handler(context) }
        if eventThread != nil { eventsFinished.wait() }
        if Thread.current !== worker { workerFinished.wait() }
        if let context { libusb_exit(context) }
        context = nil
    }

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    var rawContext: OpaquePointer? { context }

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
        precondition(Thread.current !== worker, "performBlocking called from the libusb thread")
        guard let context else { throw USBError.closed }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        try withoutActuallyEscaping(body) { work in
            let box = WorkBox()
            box.work = { result = Result { try work(USBContext(raw: context)) } }
            guard enqueue({
                box.work?()
                box.work = nil
                done.signal()
            }) else { throw USBError.closed }
            done.wait()
        }
        return try result!.get()
    }

    /// Runs `body` on the libusb thread; the calling task suspends meanwhile.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (USBContext) throws -> T) async throws -> T {
        guard let context else { throw USBError.closed }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = enqueue {
                continuation.resume(with: Result { try body(USBContext(raw: context)) })
            }
            if !accepted { continuation.resume(throwing: USBError.closed) }
        }
    }

    private final class WorkBox: @unchecked Sendable {
        var work: (() -> Void)?
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        lock.signal()
        return true
    }

    private func runLoop() {
        while true {
            lock.lock()
            while jobs.isEmpty && !stopping { lock.wait() }
            if jobs.isEmpty && stopping {
                lock.unlock()
                return
            }
            let job = jobs.removeFirst()
            lock.unlock()
            job()
        }
    }

    private func eventLoop() {
        guard let context else { return }
        while !isStopping {
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            _ = libusb_handle_events_timeout_completed(context, &tv, nil)
        }
    }
}
