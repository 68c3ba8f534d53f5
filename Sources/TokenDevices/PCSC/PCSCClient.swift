import CPCSCLite
import Foundation

/// Owns one PC/SC context on a dedicated thread and runs every blocking PC/SC call there.
///
/// pcsc-lite wants a context per thread, and `SCardGetStatusChange`/`SCardTransmit` block: neither
/// belongs on Swift's cooperative thread pool. Work is submitted as closures that receive the
/// thread-confined ``PCSCContext``; `await perform { … }` suspends the caller meanwhile, and
/// ``cancel()`` (safe from any thread) interrupts a blocking wait with `SCardCancel`.
public final class PCSCClient: @unchecked Sendable {
    private let thread: JobThread
    /// Written once on the PC/SC thread before `init` returns; read-only afterwards.
    private let context = ThreadValue<SCARDCONTEXT>(0)

    /// Starts the thread and establishes the context. Throws ``PCSCError/noService`` when pcscd is
    /// not running.
    public init() throws(PCSCError) {
        thread = try JobThread(name: "pcsc", setUp: { [context] () throws(PCSCError) in
            var handle: SCARDCONTEXT = 0
            try PCSCContext.check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &handle), "establish a PC/SC context")
            context.value = handle
        }, tearDown: { [context] in
            SCardReleaseContext(context.value)
        })
    }

    deinit {
        close()
    }

    /// Stops the thread after the queued work, releases the context, and waits for both (so no
    /// pcsc-lite call can race the process's exit). Idempotent.
    public func close() {
        thread.stop()
    }

    /// Interrupts a blocking `SCardGetStatusChange` on this client's context (pcsc-lite allows this
    /// from another thread). The interrupted call throws ``PCSCError/cancelled``.
    public func cancel() {
        _ = SCardCancel(context.value)
    }

    /// Runs `body` on the PC/SC thread and waits for it (for synchronous callers such as the CLI).
    /// Must not be called from the PC/SC thread itself. Throws ``PCSCError/invalidHandle`` after
    /// ``close()``.
    public func performBlocking<T>(_ body: (PCSCContext) throws -> T) throws -> T {
        let handle = context.value
        return try thread.runBlocking(closed: PCSCError.invalidHandle) { try body(PCSCContext(handle: handle)) }
    }

    /// Runs `body` on the PC/SC thread; the calling task suspends meanwhile. Cancelling the task
    /// cancels a blocking status wait inside `body` (`SCardCancel`).
    public func perform<T: Sendable>(_ body: @escaping @Sendable (PCSCContext) throws -> T) async throws -> T {
        let handle = context.value
        return try await withTaskCancellationHandler {
            try await thread.run(closed: PCSCError.invalidHandle) { try body(PCSCContext(handle: handle)) }
        } onCancel: {
            self.cancel()
        }
    }
}
