import Foundation

/// Blocking work (waiting for a child process, polling its output) moved off Swift's cooperative
/// thread pool.
///
/// The pool has one thread per core: two on the CI machine. Swift Testing runs the tests as tasks on
/// it, so two tests blocked in `waitUntilExit` stall every other test, and an async deadline in the
/// code under test (PostgreSQL's start-up timeout) then expires while its work waits for a thread.
/// CI failed that way once: every PostgreSQL test timed out after 36 s of starvation. These
/// overloads are picked wherever a caller can `await`; the blocking versions stay for synchronous
/// code (a `deinit`, a `defer`).
public enum OffThePool {
    /// A queue whose threads are not the cooperative pool's (GCD adds threads for blocked work).
    static let queue = DispatchQueue(label: "test-support.blocking", attributes: .concurrent)

    /// Runs `body` on ``queue`` and suspends, without holding a pool thread, until it returns.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    /// ``run(_:)`` for work that throws.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run { Result { try body() } }.get()
    }
}

extension TestTools {
    /// ``run(_:_:input:environment:timeout:)`` without holding a thread of the cooperative pool.
    public static func run(
        _ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        timeout: TimeInterval = 120
    ) async throws -> ProcessResult {
        try await OffThePool.run { () throws -> ProcessResult in
            try run(executable, arguments, input: input, environment: environment, timeout: timeout) as ProcessResult
        }
    }
}

extension BackgroundProcess {
    /// ``stop(grace:)`` without holding a pool thread while the process goes.
    @discardableResult
    public func stop(grace: TimeInterval = 5) async -> Int32 {
        await OffThePool.run { () -> Int32 in self.stop(grace: grace) as Int32 }
    }
}
