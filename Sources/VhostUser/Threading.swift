import CShim
import Glibc

/// A mutex with a condition variable (pthreads), for the few places that
/// must sleep until another thread changes shared state: a worker waiting
/// for its in-flight requests, pool threads waiting for work.
///
/// @unchecked Sendable: the pthread objects are heap-allocated once, never
/// moved, and are themselves the synchronization.
public final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Sleeps until signalled; call only inside `withLock`.
    public func wait() { pthread_cond_wait(condition, mutex) }
    /// Sleeps until signalled or `milliseconds` pass; call only inside `withLock`.
    public func wait(milliseconds: Int) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + milliseconds * 1_000_000
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_cond_timedwait(condition, mutex, &deadline)
    }
    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// eventfd helpers: the kick/call descriptors QEMU passes, and our own stop
/// notifiers. The descriptors stay blocking (QEMU shares their open-file
/// flags); callers poll before reading.
public enum EventNotifier {
    public static func make() -> Int32 { shim_eventfd(0) }

    public static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        while write(fd, &one, 8) < 0 && errno == EINTR {}
    }

    /// Consumes the counter; call only after poll reported `fd` readable.
    public static func drain(_ fd: Int32) {
        var value: UInt64 = 0
        while read(fd, &value, 8) < 0 && errno == EINTR {}
    }
}
