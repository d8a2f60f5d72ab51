import Synchronization
import SystemSupport

/// The session's threads, which may grow while it runs (the io_uring queue
/// threads start once INIT is answered): counts those started and ended,
/// and joins them at the end.
final class FuseWorkerSet: Sendable {
    private let threads = Mutex<[NativeThread]>([])
    private let ended = Atomic<Int>(0)

    /// Starts `body` on a new thread; false if it could not be started.
    @discardableResult
    func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        threads.withLock { threads in
            guard let thread = NativeThread.start(name: name, { [self] in
                body()
                ended.add(1, ordering: .releasing)
            }) else { return false }
            threads.append(thread)
            return true
        }
    }

    var count: Int { threads.withLock { $0.count } }
    var allEnded: Bool { ended.load(ordering: .acquiring) >= count }

    func joinAll() {
        // Threads started while joining are joined too.
        var joined = 0
        while true {
            let next: NativeThread? = threads.withLock { joined < $0.count ? $0[joined] : nil }
            guard let next else { return }
            next.join()
            joined += 1
        }
    }
}
