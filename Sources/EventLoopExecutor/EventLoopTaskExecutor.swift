import NIOCore

/// Runs Swift Concurrency jobs on one NIO event loop: a task that prefers this executor runs its
/// nonisolated code on the loop's thread, so it can touch that loop's channels, and resume after
/// their I/O, without a hop to another thread.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    /// The loop the jobs run on.
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
