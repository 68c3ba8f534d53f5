import Dispatch
import Foundation

/// Maps `0..<count` on every core (in contiguous chunks, one per core) and returns the results in
/// order; the first error by index is thrown. For CPU-bound per-item work such as sealing a batch;
/// `transform` is called from several threads at once, so it must only read shared state.
package func parallelMap<T, E: Error>(_ count: Int, _ transform: (Int) throws(E) -> T) throws(E) -> [T] {
    let chunks = min(max(1, ProcessInfo.processInfo.activeProcessorCount), max(1, count / 256))
    guard chunks > 1 else { return try (0..<count).map { i throws(E) in try transform(i) } }
    var results = [Result<T, E>?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
        let slots = UncheckedBuffer(slots)
        withoutActuallyEscaping(transform) { transform in
        let work = Unchecked(transform)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let transform = work.value
            let range = (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
            for i in range {
                do throws(E) { slots.buffer[i] = .success(try transform(i)) } catch { slots.buffer[i] = .failure(error) }
            }
        }
        }
    }
    return try results.map { result throws(E) in try result!.get() }
}

/// A value used from several threads for the duration of one `concurrentPerform`.
private struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Disjoint index ranges of one buffer, written from several threads.
private struct UncheckedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
