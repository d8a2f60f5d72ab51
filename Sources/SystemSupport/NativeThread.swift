import CShim
import Glibc

/// A joinable POSIX thread running a closure. Transports use plain threads,
/// not Swift concurrency, because their workers block in system calls
/// (read(2) on /dev/fuse, poll(2) on eventfds, a SETLKW waiting for a lock).
///
///     let worker = NativeThread(name: "vq0") { serve() }
///     worker.join()
public struct NativeThread: Sendable {
    private let thread: pthread_t

    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept);
    /// a process that cannot start one stops here.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        guard let thread = Self.start(name: name, body) else { fatalError("cannot start thread \(name)") }
        self = thread
    }

    private init(thread: pthread_t) { self.thread = thread }

    /// Starts `body` on a new thread; nil if the system refuses one (callers that can do with fewer).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> NativeThread? {
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
        return NativeThread(thread: thread)
    }

    /// Waits for the thread to end. Call once, and not with `detach()`.
    public func join() { pthread_join(thread, nil) }

    /// Lets the thread end on its own; nothing joins it.
    public func detach() { pthread_detach(thread) }

    /// Runs `body(index)` on `count` threads and waits for all of them.
    public static func runAll(count: Int, name: String = "worker", _ body: @escaping @Sendable (Int) -> Void) {
        let threads = (0..<count).map { index in NativeThread(name: "\(name)\(index)") { body(index) } }
        for thread in threads { thread.join() }
    }
}
