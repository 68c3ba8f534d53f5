import Dispatch
import Foundation

/// Work on the keys of a seed file that runs on the other cores while the parser reads on: items
/// are collected into chunks as they are read, each full chunk is handed to a worker queue, and
/// ``finish()`` returns every result in the order the items were added.
///
/// `work` is called from several threads at once, so it must only read shared state. With one core
/// the work runs inline, chunk by chunk.
final class KeyPipeline<Item, Output>: @unchecked Sendable {
    /// One serial queue per core but the reader's: the reader is the critical path, so it keeps a
    /// core to itself.
    private let queues: [DispatchQueue]
    private let group = DispatchGroup()
    private let lock = NSLock()
    private let chunkSize: Int
    private let concurrent: Bool
    private let work: ([Item]) -> [Output]
    // Only the adding thread touches these two.
    private var pending: [Item] = []
    private var chunks = 0
    // Guarded by `lock`.
    private var results: [Int: [Output]] = [:]

    /// - Parameter work: maps one chunk of items to as many outputs, in order.
    init(chunkSize: Int = 256, work: @escaping ([Item]) -> [Output]) {
        self.chunkSize = chunkSize
        self.work = work
        let cores = ProcessInfo.processInfo.activeProcessorCount
        concurrent = cores > 1
        queues = (0..<max(1, cores - 1)).map { DispatchQueue(label: "seed-import.keys.\($0)") }
        pending.reserveCapacity(chunkSize)
    }

    /// Adds one item (from the one reading thread).
    func add(_ item: Item) {
        pending.append(item)
        if pending.count == chunkSize { flush() }
    }

    /// Every output, in the order of the items; waits for the chunks still being worked on.
    func finish() -> [Output] {
        flush()
        group.wait()
        return lock.withLock { (0..<chunks).flatMap { results[$0]! } }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        pending.reserveCapacity(chunkSize)
        let index = chunks
        chunks += 1
        guard concurrent else {
            let output = work(batch)
            lock.withLock { results[index] = output }
            return
        }
        group.enter()
        let items = Handover(batch)
        queues[index % queues.count].async {
            let output = self.work(items.value)
            self.lock.withLock { self.results[index] = output }
            self.group.leave()
        }
    }
}

/// A chunk handed from the reading thread to one worker, never touched by both at once.
private struct Handover<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
