import Synchronization

/// The queue behind the stores' group commit: jobs submitted while a batch is being processed form
/// the next batch. One drainer at a time, started by the first submission into an idle queue and
/// ended when the queue is empty; batches keep arrival order and hold at most `maximumBatch` jobs.
public final class BatchQueue<Job: Sendable>: Sendable {
    private struct State: Sendable {
        var queue: [Job] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let process: @Sendable ([Job]) async -> Void

    /// `process` handles one batch (and answers its jobs); it is never called with an empty batch.
    public init(maximumBatch: Int, process: @escaping @Sendable ([Job]) async -> Void) {
        self.maximumBatch = max(1, maximumBatch)
        self.process = process
    }

    /// Queues `job`; it is processed in the next batch.
    public func submit(_ job: Job) {
        let startDrainer = state.withLock { s -> Bool in
            s.queue.append(job)
            guard !s.draining else { return false }
            s.draining = true
            return true
        }
        if startDrainer { Task { await self.drain() } }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { s -> [Job] in
                guard !s.queue.isEmpty else {
                    s.draining = false
                    return []
                }
                let batch = Array(s.queue.prefix(maximumBatch))
                s.queue.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            await process(batch)
        }
    }
}
