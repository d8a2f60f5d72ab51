import FuseServer
import SwiftFSProtocol
import Synchronization

/// POSIX record locks of all guests' lock owners, per node: F_GETLK,
/// F_SETLK semantics (ranges split and replaced per owner, read locks
/// shared, write locks exclusive between owners). Kept in the daemon rather
/// than as host OFD locks so GETLK can report the holder's guest pid, which
/// host locks cannot carry. Host processes do not see these locks.
/// Bounded: records per owner and in all (`PassthroughLimits`), beyond which
/// a change answers ENOLCK.
final class PosixLockTable: Sendable {
    struct HeldLock: Equatable {
        var owner: UInt64
        var pid: UInt32
        var kind: FileLock.Kind
        var start: UInt64
        var end: UInt64 // inclusive

        func overlaps(_ start: UInt64, _ end: UInt64) -> Bool { self.start <= end && start <= self.end }
    }

    private struct State {
        var byNode: [NodeID: [HeldLock]] = [:]
        /// Records per owner (all nodes), and in all.
        var perOwner: [UInt64: Int] = [:]
        var total = 0

        /// Records the change of `node`'s list to `held`.
        mutating func replace(_ node: NodeID, with held: [HeldLock]) {
            for lock in byNode[node] ?? [] { count(lock.owner, -1) }
            for lock in held { count(lock.owner, 1) }
            byNode[node] = held.isEmpty ? nil : held
        }

        private mutating func count(_ owner: UInt64, _ delta: Int) {
            total += delta
            let new = (perOwner[owner] ?? 0) + delta
            perOwner[owner] = new == 0 ? nil : new
        }
    }
    private let state = Mutex(State())
    let recordsPerOwner: Int
    let records: Int

    init(recordsPerOwner: Int = PassthroughLimits().lockRecordsPerOwner, records: Int = PassthroughLimits().lockRecords) {
        self.recordsPerOwner = recordsPerOwner
        self.records = records
    }

    /// The first lock of another owner that conflicts with `lock`, if any.
    func conflict(node: NodeID, owner: UInt64, lock: FileLock) -> HeldLock? {
        state.withLock { Self.conflict(in: $0.byNode[node] ?? [], owner: owner, lock: lock) }
    }

    /// Sets (or, for .unlock, removes) `owner`'s lock on the range; returns
    /// the conflicting lock instead if another owner's lock is in the way.
    /// ENOLCK if `owner`, or all owners, would hold more records than allowed
    /// (an unlock that splits a range adds one).
    func set(node: NodeID, owner: UInt64, lock: FileLock) throws(Errno) -> HeldLock? {
        let result: Result<HeldLock?, Errno> = state.withLock { state in
            let before = state.byNode[node] ?? []
            if lock.kind != .unlock, let conflict = Self.conflict(in: before, owner: owner, lock: lock) { return .success(conflict) }
            var held = Self.removing(lock.start, lock.end, of: owner, from: before)
            if lock.kind != .unlock {
                held.append(HeldLock(owner: owner, pid: lock.pid, kind: lock.kind, start: lock.start, end: lock.end))
            }
            let added = held.count - before.count
            if added > 0 {
                let ownerAdded = held.count(where: { $0.owner == owner }) - before.count(where: { $0.owner == owner })
                guard state.total + added <= records,
                      (state.perOwner[owner] ?? 0) + ownerAdded <= recordsPerOwner else { return .failure(.ENOLCK) }
            }
            state.replace(node, with: held)
            return .success(nil)
        }
        return try result.get()
    }

    /// close(2) by `owner`: all its locks on the node go.
    func releaseAll(node: NodeID, owner: UInt64) {
        state.withLock { state in
            guard let held = state.byNode[node] else { return }
            state.replace(node, with: held.filter { $0.owner != owner })
        }
    }

    func removeNode(_ node: NodeID) {
        // Every FORGET that drops a node comes here; with no locks held (the usual case) nothing to look up.
        state.withLock { state in
            guard !state.byNode.isEmpty else { return }
            state.replace(node, with: [])
        }
    }
    func removeAll() { state.withLock { $0 = State() } }

    /// Records held by `owner` (nil: by all owners).
    func recordCount(owner: UInt64? = nil) -> Int {
        state.withLock { state in owner.map { state.perOwner[$0] ?? 0 } ?? state.total }
    }

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
