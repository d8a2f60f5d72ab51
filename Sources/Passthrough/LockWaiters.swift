import Glibc
import Synchronization

/// SETLKW waits: a waiting request polls for its lock (backing off up to
/// 20 ms) and gives up with EINTR when the kernel INTERRUPTs it or after
/// `limit`, so no worker thread blocks forever. (The kernel sends INTERRUPT
/// when the waiting process gets a signal, e.g. is killed.)
final class LockWaiters: Sendable {
    /// unique → interrupted?
    private let waiting = Mutex<[UInt64: Bool]>([:])
    let limit: Duration

    init(limit: Duration) { self.limit = limit }

    /// Retries `attempt` until it returns true; false if interrupted or timed out.
    func wait(unique: UInt64, _ attempt: () -> Bool) -> Bool {
        waiting.withLock { $0[unique] = false }
        defer { waiting.withLock { _ = $0.removeValue(forKey: unique) } }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var pause = 1 // milliseconds
        while clock.now < deadline {
            if attempt() { return true }
            if waiting.withLock({ $0[unique] ?? false }) { return false }
            usleep(UInt32(pause * 1000))
            pause = min(pause * 2, 20)
        }
        return false
    }

    /// Marks `unique` interrupted if it is waiting; unknown uniques are ignored.
    func interrupt(unique: UInt64) {
        waiting.withLock { waiting in
            if waiting[unique] != nil { waiting[unique] = true }
        }
    }
}
