import Glibc

/// A fixed set of threads that process requests of every queue in
/// parallel (--thread-pool-size). Each thread keeps its own reusable chain
/// buffers; the owning queue worker serializes used-ring updates.
///
/// @unchecked Sendable: `items`, `head`, `count` and `stopping` are only
/// touched under `monitor`.
public final class RequestPool: @unchecked Sendable {
    struct Item {
        let worker: QueueWorker
        let head: UInt16
    }

    private let monitor = Monitor()
    /// A ring buffer of pending items; grows (rarely) instead of allocating per request.
    private var items: [Item?] = Array(repeating: nil, count: 256)
    private var first = 0
    private var count = 0
    private var stopping = false
    private var threads: [NativeThread] = []

    public init(threads: Int) {
        for i in 0..<max(1, threads) {
            self.threads.append(NativeThread(name: "pool\(i)") { [self] in run() })
        }
    }

    func submit(_ item: Item) {
        monitor.withLock {
            if count == items.count { grow() }
            items[(first + count) % items.count] = item
            count += 1
            monitor.signal()
        }
    }

    /// Finishes queued work, then ends the threads.
    public func shutdown() {
        monitor.withLock { stopping = true; monitor.broadcast() }
        threads.forEach { $0.join() }
        threads = []
    }

    private func grow() {
        var bigger = [Item?](repeating: nil, count: items.count * 2)
        for i in 0..<count { bigger[i] = items[(first + i) % items.count] }
        items = bigger
        first = 0
    }

    private func run() {
        var buffers = ChainBuffers()
        var memory = GuestMemoryCache()
        while true {
            let next: Item? = monitor.withLock {
                while count == 0 && !stopping { monitor.wait() }
                guard count > 0 else { return nil }
                let item = items[first]
                items[first] = nil
                first = (first + 1) % items.count
                count -= 1
                return item
            }
            guard let next else { return }
            next.worker.process(head: next.head, buffers: &buffers, memory: &memory)
        }
    }
}
