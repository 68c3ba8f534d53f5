import Foundation

/// A dedicated thread that runs submitted jobs one after another: the home of a C library's
/// thread-confined context (pcsc-lite, libusb), whose blocking calls must never run on Swift's
/// cooperative thread pool. ``PCSCClient`` and ``USBClient`` each own one.
final class JobThread: @unchecked Sendable {
    private let lock = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var thread: Thread?
    /// Signalled once the thread has run its tear-down and is about to end.
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread and waits until `setUp` has run on it. When `setUp` throws, the thread
    /// ends at once and so does this initialiser, with the same error; otherwise the thread runs
    /// jobs until ``stop()``, then `tearDown`.
    init<E: Error>(name: String, stackSize: Int = 1 << 20, setUp: @escaping @Sendable () throws(E) -> Void, tearDown: @escaping @Sendable () -> Void) throws(E) {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: E?
        let thread = Thread { [unowned self] in
            do throws(E) {
                try setUp()
            } catch {
                failure = error
                self.finished.signal()
                ready.signal()
                return
            }
            ready.signal()
            self.runLoop()
            tearDown()
            self.finished.signal()
        }
        thread.name = name
        thread.stackSize = stackSize
        self.thread = thread
        thread.start()
        ready.wait()
        if let failure { throw failure }
    }

    /// Whether the caller is running on this thread.
    var isCurrent: Bool { Thread.current === thread }

    /// Whether ``stop()`` has been called.
    var isStopping: Bool { lock.withLock { stopping } }

    /// Lets the thread finish the queued jobs, run its tear-down and end; jobs submitted from now on
    /// are refused. Waits for all of it unless called from the thread itself. Returns false when the
    /// thread was already stopping (then it does not wait).
    @discardableResult
    func stop() -> Bool {
        let first = lock.withLock {
            let first = !stopping
            stopping = true
            lock.broadcast()
            return first
        }
        guard first else { return false }
        if !isCurrent { finished.wait() }
        return true
    }

    /// Runs `body` on the thread and waits for it (for synchronous callers such as the CLI). Must not
    /// be called from the thread itself. Throws `closed` once the thread is stopping.
    func runBlocking<T>(closed: any Error, _ body: () throws -> T) throws -> T {
        precondition(!isCurrent, "a blocking call on \(thread?.name ?? "a job thread") from that thread itself")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        // The caller blocks until the job has run, so the non-escaping closure outlives its use. The
        // thread reaches it through a box that lets go of it before the caller resumes.
        try withoutActuallyEscaping(body) { work in
            let box = WorkBox()
            box.work = { result = Result { try work() } }
            guard enqueue({
                box.work?()
                box.work = nil
                done.signal()
            }) else { throw closed }
            done.wait()
        }
        return try result!.get()
    }

    /// Runs `body` on the thread; the calling task suspends meanwhile. Throws `closed` once the
    /// thread is stopping.
    func run<T: Sendable>(closed: any Error, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = enqueue { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: closed) }
        }
    }

    private final class WorkBox: @unchecked Sendable {
        var work: (() -> Void)?
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        lock.withLock {
            guard !stopping else { return false }
            jobs.append(job)
            lock.signal()
            return true
        }
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
}

/// A value a job thread writes during its set-up and only reads afterwards (a C library's context
/// handle), shared with the owner without the thread holding on to the owner.
final class ThreadValue<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
