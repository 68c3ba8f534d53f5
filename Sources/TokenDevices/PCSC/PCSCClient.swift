import CPCSCLite
import Foundation

/// Owns one PC/SC context on a dedicated thread and runs every blocking PC/SC call there.
///
/// pcsc-lite wants a context per thread, and `SCardGetStatusChange`/`SCardTransmit` block: neither
/// belongs on Swift's cooperative thread pool. Work is submitted as closures that receive the
/// thread-confined ``PCSCContext``; `await perform { … }` suspends the caller meanwhile, and
/// ``cancel()`` (safe from any thread) interrupts a blocking wait with `SCardCancel`.
public final class PCSCClient: @unchecked Sendable {
    private let lock = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var thread: Thread?
    /// Signalled by the thread once it has released the context and is about to end.
    private let finished = DispatchSemaphore(value: 0)
    /// Written once on the owner thread before `init` returns; read-only afterwards.
    private var handle: SCARDCONTEXT = 0

    /// Starts the thread and establishes the context. Throws ``PCSCError/noService`` when pcscd is
    /// not running.
    public init() throws(PCSCError) {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: PCSCError?
        let thread = Thread { [unowned self] in
            var context: SCARDCONTEXT = 0
            do throws(PCSCError) {
                try PCSCContext.check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context), "establish a PC/SC context")
                self.handle = context
            } catch {
                failure = error
                self.finished.signal()
                ready.signal()
                return
            }
            ready.signal()
            self.runLoop()
            SCardReleaseContext(context)
            self.finished.signal()
        }
        thread.name = "pcsc"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
        ready.wait()
        if let failure { throw failure }
    }

    deinit {
        close()
    }

    /// Stops the thread after the queued work, releases the context, and waits for both (so no
    /// pcsc-lite call can race the process's exit). Idempotent.
    public func close() {
        lock.lock()
        let first = !stopping
        stopping = true
        lock.signal()
        lock.unlock()
        guard first, Thread.current !== thread else { return }
        finished.wait()
    }

    /// Interrupts a blocking `SCardGetStatusChange` on this client's context (pcsc-lite allows this
    /// from another thread). The interrupted call throws ``PCSCError/cancelled``.
    public func cancel() {
        _ = SCardCancel(handle)
    }

    /// Runs `body` on the PC/SC thread and waits for it (for synchronous callers such as the CLI).
    /// Must not be called from the PC/SC thread itself.
    public func performBlocking<T>(_ body: (PCSCContext) throws -> T) throws -> T {
        precondition(Thread.current !== thread, "performBlocking called from the PC/SC thread")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        // The caller blocks until the job has run, so the non-escaping closure outlives its use. The
        // worker reaches it through a box that lets go of it before the caller resumes.
        withoutActuallyEscaping(body) { work in
            let box = WorkBox()
            box.work = { context in result = Result { try work(context) } }
            enqueue { [handle] in
                box.work?(PCSCContext(handle: handle))
                box.work = nil
                done.signal()
            }
            done.wait()
        }
        return try result!.get()
    }

    /// Runs `body` on the PC/SC thread; the calling task suspends meanwhile. Cancelling the task
    /// cancels a blocking status wait inside `body` (`SCardCancel`).
    public func perform<T: Sendable>(_ body: @escaping @Sendable (PCSCContext) throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                enqueue { [handle] in
                    continuation.resume(with: Result { try body(PCSCContext(handle: handle)) })
                }
            }
        } onCancel: {
            self.cancel()
        }
    }

    private final class WorkBox: @unchecked Sendable {
        var work: ((PCSCContext) -> Void)?
    }

    private func enqueue(_ job: @escaping () -> Void) {
        lock.lock()
        jobs.append(job)
        lock.signal()
        lock.unlock()
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
