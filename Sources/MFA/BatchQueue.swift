import Synchronization

/// The queue behind the stores' group commit: jobs submitted while a batch is being processed form
/// the next batch. One drainer at a time, started by the first submission into an idle queue and
/// ended when the queue is empty; batches keep arrival order and hold at most `maximumBatch` jobs.
public final class BatchQueue<Job: Sendable>: Sendable {
    private struct State: Sendable {
        var queue: [Job] = []
        var draining = false
    }

    private enum Processor: Sendable {
        /// Drained by a task that prefers `executor`, when one is given.
        case async(executor: (any TaskExecutor)?, @Sendable ([Job]) async -> Void)
        case callback(@Sendable ([Job], _ done: @escaping @Sendable () -> Void) -> Void)
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let processor: Processor

    /// `process` handles one batch (and answers its jobs); it is never called with an empty batch.
    /// The drain runs in a task that prefers `executor`, when one is given (the thread of the
    /// connections the batches use, so their round trips resume without a hop).
    public init(maximumBatch: Int, executor: (any TaskExecutor)? = nil, process: @escaping @Sendable ([Job]) async -> Void) {
        self.maximumBatch = max(1, maximumBatch)
        self.processor = .async(executor: executor, process)
    }

    /// `process` starts one batch and calls `done` once it has answered its jobs; the next batch then
    /// starts right there, on `done`'s thread. A processor that finishes on its own worker (a database
    /// writer's queue) keeps the whole drain on that thread, with no hop between batches.
    public init(maximumBatch: Int, startingOnCompletion process: @escaping @Sendable ([Job], _ done: @escaping @Sendable () -> Void) -> Void) {
        self.maximumBatch = max(1, maximumBatch)
        self.processor = .callback(process)
    }

    /// Queues `job`; it is processed in the next batch.
    public func submit(_ job: Job) {
        let startDrainer = state.withLock { s -> Bool in
            s.queue.append(job)
            guard !s.draining else { return false }
            s.draining = true
            return true
        }
        guard startDrainer else { return }
        switch processor {
        case .async(let executor, let process): Task(executorPreference: executor) { await self.drain(process) }
        case .callback(let process): startNext(process)
        }
    }

    /// The next batch, or nil (and the drainer ends) when the queue is empty.
    private func nextBatch() -> [Job]? {
        state.withLock { s -> [Job]? in
            guard !s.queue.isEmpty else {
                s.draining = false
                return nil
            }
            let batch = Array(s.queue.prefix(maximumBatch))
            s.queue.removeFirst(batch.count)
            return batch
        }
    }

    private func drain(_ process: @Sendable ([Job]) async -> Void) async {
        while let batch = nextBatch() { await process(batch) }
    }

    private func startNext(_ process: @escaping @Sendable ([Job], _ done: @escaping @Sendable () -> Void) -> Void) {
        guard let batch = nextBatch() else { return }
        process(batch) { self.startNext(process) }
    }
}
