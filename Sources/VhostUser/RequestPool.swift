import Glibc
import SystemSupport

/// Threads that process requests of every queue in parallel. Threads are
/// started on demand, when work arrives and none is idle, up to
/// `maxThreads`, and then stay. Each keeps its own reusable chain buffers
/// and memory cache; the owning queue worker serializes used-ring updates.
///
/// @unchecked Sendable: `items`, `first`, `count`, `idle`, `threads` and
/// `stopping` are only touched under `monitor`.
final class RequestPool<Device: VirtioDeviceHandler>: @unchecked Sendable {
    struct Item {
        let worker: QueueWorker<Device>
        let head: UInt16
        /// The request's head when the queue's thread already read it (a request that may block).
        var requestHead: Device.RequestHead? = nil
    }

    let maxThreads: Int
    private let monitor = Monitor()
    /// A ring buffer of pending items; grows (rarely) instead of allocating per request.
    private var items: [Item?] = Array(repeating: nil, count: 256)
    private var first = 0
    private var count = 0
    private var idle = 0
    private var stopping = false
    private var threads: [NativeThread] = []

    init(maxThreads: Int) {
        self.maxThreads = max(1, maxThreads)
    }

    func submit(_ item: Item) {
        monitor.withLock {
            if count == items.count { grow() }
            items[(first + count) % items.count] = item
            count += 1
            if idle >= count {
                monitor.signal()
            } else if threads.count < maxThreads {
                threads.append(NativeThread(name: "pool\(threads.count)") { [self] in run() })
            } else {
                monitor.signal()
            }
        }
    }

    /// Finishes queued work, then ends the threads.
    func shutdown() {
        let all: [NativeThread] = monitor.withLock {
            stopping = true
            monitor.broadcast()
            return threads
        }
        all.forEach { $0.join() }
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
                while count == 0 && !stopping {
                    idle += 1
                    monitor.wait()
                    idle -= 1
                }
                guard count > 0 else { return nil }
                let item = items[first]
                items[first] = nil
                first = (first + 1) % items.count
                count -= 1
                return item
            }
            guard let next else { return }
            next.worker.process(head: next.head, requestHead: next.requestHead, buffers: &buffers, memory: &memory, pooled: true)
        }
    }
}
