import FuseServer
import Synchronization

/// POSIX record locks of all guests' lock owners, per node: F_GETLK,
/// F_SETLK semantics (ranges split and replaced per owner, read locks
/// shared, write locks exclusive between owners). Kept in the daemon rather
/// than as host OFD locks so GETLK can report the holder's guest pid, which
/// host locks cannot carry. Host processes do not see these locks.
final class PosixLockTable: Sendable {
    struct HeldLock: Equatable {
        var owner: UInt64
        var pid: UInt32
        var kind: FileLock.Kind
        var start: UInt64
        var end: UInt64 // inclusive

        func overlaps(_ start: UInt64, _ end: UInt64) -> Bool { self.start <= end && start <= self.end }
    }

    private let locks = Mutex<[NodeID: [HeldLock]]>([:])

    /// The first lock of another owner that conflicts with `lock`, if any.
    func conflict(node: NodeID, owner: UInt64, lock: FileLock) -> HeldLock? {
        locks.withLock { Self.conflict(in: $0[node] ?? [], owner: owner, lock: lock) }
    }

    /// Sets (or, for .unlock, removes) `owner`'s lock on the range; returns
    /// the conflicting lock instead if another owner's lock is in the way.
    func set(node: NodeID, owner: UInt64, lock: FileLock) -> HeldLock? {
        locks.withLock { table in
            var held = table[node] ?? []
            if lock.kind != .unlock, let conflict = Self.conflict(in: held, owner: owner, lock: lock) { return conflict }
            held = Self.removing(lock.start, lock.end, of: owner, from: held)
            if lock.kind != .unlock {
                held.append(HeldLock(owner: owner, pid: lock.pid, kind: lock.kind, start: lock.start, end: lock.end))
            }
            table[node] = held.isEmpty ? nil : held
            return nil
        }
    }

    /// close(2) by `owner`: all its locks on the node go.
    func releaseAll(node: NodeID, owner: UInt64) {
        locks.withLock { table in
            guard let held = table[node] else { return }
            let kept = held.filter { $0.owner != owner }
            table[node] = kept.isEmpty ? nil : kept
        }
    }

    func removeNode(_ node: NodeID) { locks.withLock { _ = $0.removeValue(forKey: node) } }
    func removeAll() { locks.withLock { $0 = [:] } }

    private static func conflict(in held: [HeldLock], owner: UInt64, lock: FileLock) -> HeldLock? {
        held.first { other in
            other.owner != owner && other.overlaps(lock.start, lock.end) && (other.kind == .write || lock.kind == .write)
        }
    }

    /// `owner`'s locks minus the range [start, end]: overlapping locks are cut, split around it.
    private static func removing(_ start: UInt64, _ end: UInt64, of owner: UInt64, from held: [HeldLock]) -> [HeldLock] {
        var result: [HeldLock] = []
        result.reserveCapacity(held.count + 1)
        for lock in held {
            guard lock.owner == owner, lock.overlaps(start, end) else { result.append(lock); continue }
            if lock.start < start {
                var left = lock
                left.end = start - 1
                result.append(left)
            }
            if lock.end > end {
                var right = lock
                right.start = end + 1
                result.append(right)
            }
        }
        return result
    }
}
