import CShim
import Glibc

/// A joinable POSIX thread running a closure (the /dev/fuse workers: plain
/// threads, because a worker blocks in read(2) on the device).
struct WorkerThread {
    private let thread: pthread_t

    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread; nil if the system refuses one.
    init?(name: String, _ body: @escaping @Sendable () -> Void) {
        let threadName = String(name.prefix(15))
        let start = Unmanaged.passRetained(Start({ shim_set_thread_name(threadName); body() })).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            start.body()
            return nil
        }, start)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            return nil
        }
        self.thread = thread
    }

    func join() { pthread_join(thread, nil) }
}
