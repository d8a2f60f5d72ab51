import Glibc
import SwiftFSProtocol
import Synchronization

/// SETLKW waits: a waiting request polls for its lock (backing off up to
/// 20 ms) and gives up with EINTR when the kernel INTERRUPTs it or after
/// `limit`, so no worker thread blocks forever. (The kernel sends INTERRUPT
/// when the waiting process gets a signal, e.g. is killed.)
///
/// An INTERRUPT can overtake its request: another worker may read it from
/// /dev/fuse while the SETLKW is still being decoded. The last few
/// interrupts of requests not (yet) waiting are remembered, so such a
/// SETLKW gives up at once instead of holding its process for `limit`.
/// At most `maxWaiting` requests wait at once; another gets ENOLCK.
final class LockWaiters: Sendable {
    private struct State {
        /// unique → interrupted?
        var waiting: [UInt64: Bool] = [:]
        /// Interrupts that named no waiting request, oldest overwritten first.
        var early = [UInt64?](repeating: nil, count: 16)
        var nextEarly = 0
    }
    private let state = Mutex(State())
    let limit: Duration
    let maxWaiting: Int

    init(limit: Duration, maxWaiting: Int = PassthroughLimits().waitingLocks) {
        self.limit = limit
        self.maxWaiting = maxWaiting
    }

    /// Retries `attempt` until it returns true; false if interrupted or timed
    /// out. ENOLCK if `maxWaiting` requests wait already (or this one's
    /// `unique` does: a guest that reuses it is not waited for twice).
    func wait(unique: UInt64, _ attempt: () -> Bool) throws(Errno) -> Bool {
        enum Start { case wait, interrupted, full }
        let start = state.withLock { state -> Start in
            guard let slot = state.early.firstIndex(of: unique) else {
                guard state.waiting.count < maxWaiting, state.waiting[unique] == nil else { return .full }
                state.waiting[unique] = false
                return .wait
            }
            state.early[slot] = nil
            return .interrupted
        }
        if start == .full { throw Errno.ENOLCK }
        if start == .interrupted { return attempt() }
        defer { state.withLock { _ = $0.waiting.removeValue(forKey: unique) } }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var pause = 1 // milliseconds
        while clock.now < deadline {
            if attempt() { return true }
            if state.withLock({ $0.waiting[unique] ?? false }) { return false }
            usleep(UInt32(pause * 1000))
            pause = min(pause * 2, 20)
        }
        return false
    }

    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// A new session numbers its requests from the start again: forget early interrupts.
    func forgetEarlyInterrupts() {
        state.withLock { state in
            for i in state.early.indices { state.early[i] = nil }
        }
    }

    /// Marks every waiting request interrupted (a queue is stopping).
    func interruptAll() {
        state.withLock { state in
            for unique in state.waiting.keys { state.waiting[unique] = true }
        }
    }

    /// Marks `unique` interrupted if it is waiting, or remembers it for a
    /// SETLKW that has not started waiting yet.
    func interrupt(unique: UInt64) {
        state.withLock { state in
            if state.waiting[unique] != nil {
                state.waiting[unique] = true
            } else {
                state.early[state.nextEarly] = unique
                state.nextEarly = (state.nextEarly + 1) % state.early.count
            }
        }
    }
}
