import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// An open descriptor (O_PATH, or readable for the xattr calls) shared by
/// reference, closed when the last reference goes: the cache holds one
/// reference, every operation using it another, so a descriptor the cache
/// evicts stays valid until the operations borrowing it return. A pinned
/// inode holds one too.
final class PathDescriptor: Sendable {
    private let owned: OwnedDescriptor
    init(_ owned: consuming OwnedDescriptor) { self.owned = owned }
    var fd: Int32 { owned.rawValue }
}

/// Asked before the cache closes a slot's descriptor to make room for another.
protocol EvictionCheck: AnyObject, Sendable {
    /// Whether `fd` may be closed now (it can be reopened later). No keeps it
    /// open for good, outside the cache's count. Called with the cache's locks held.
    func mayClose(_ fd: Int32) -> Bool
}

/// Where one inode keeps its cached descriptor (if it has one now).
final class DescriptorSlot: Sendable {
    fileprivate struct State {
        var descriptor: PathDescriptor?
        /// Used since the clock hand last passed: spared once.
        var referenced = false
        /// Index in the cache's ring while `descriptor` is set and counted (-1
        /// once kept for good); guarded by the cache's lock too.
        var position = -1
    }
    fileprivate let state = Mutex(State())
    /// Consulted before eviction; nil: the descriptor may always be closed.
    let evictionCheck: (any EvictionCheck)?

    init(evictionCheck: (any EvictionCheck)? = nil) { self.evictionCheck = evictionCheck }

    /// The cached descriptor, if any, marked as recently used.
    fileprivate func take() -> PathDescriptor? {
        state.withLock { state in
            guard let descriptor = state.descriptor else { return nil }
            state.referenced = true
            return descriptor
        }
    }

    /// Whether a descriptor is cached now (for tests and diagnostics).
    var isOpen: Bool { state.withLock { $0.descriptor != nil } }
}

/// A bounded set of open descriptors for inodes that can be reopened on
/// demand (from a kernel file handle). At most `capacity` slots hold a
/// descriptor; a new one evicts the least recently used by the CLOCK
/// algorithm (a use sets a bit, the sweeping hand clears it once and evicts
/// on the second pass), which costs a hit only the slot's own lock, never
/// this cache's. Evicting drops the cache's reference: a borrowed descriptor
/// is closed when its borrower returns it.
final class DescriptorCache: Sendable {
    let capacity: Int

    private struct Ring {
        var slots: [DescriptorSlot?] = []
        var free: [Int] = []
        var hand = 0
        var open = 0
    }
    /// Taken before any slot's lock, never the other way round.
    private let ring = Mutex(Ring())

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// The descriptor of `slot`, from the cache or, on a miss, from `open`
    /// (which returns a new descriptor the cache adopts). The caller keeps
    /// the returned reference for as long as it uses `fd`.
    @inline(__always)
    func borrow(_ slot: DescriptorSlot, open: () throws(Errno) -> OwnedDescriptor) throws(Errno) -> PathDescriptor {
        if let descriptor = slot.take() { return descriptor }
        return install(PathDescriptor(try open()), in: slot)
    }

    /// Puts an open descriptor into `slot`; if another thread was faster, its
    /// descriptor is kept and `fresh` released. Returns the slot's descriptor.
    @discardableResult
    func install(_ fresh: PathDescriptor, in slot: DescriptorSlot) -> PathDescriptor {
        var evicted: PathDescriptor?
        let result = ring.withLock { ring -> PathDescriptor in
            let position: Int
            if let free = ring.free.popLast() {
                position = free
            } else if ring.slots.count < capacity {
                ring.slots.append(nil)
                position = ring.slots.count - 1
            } else {
                position = -1
            }
            return slot.state.withLock { state -> PathDescriptor in
                if let existing = state.descriptor {
                    if position >= 0 { ring.free.append(position) }
                    state.referenced = true
                    return existing
                }
                let place = position >= 0 ? position : Self.evictOne(&ring, evicted: &evicted)
                ring.slots[place] = slot
                ring.open += 1
                state.descriptor = fresh
                state.referenced = true
                state.position = place
                return fresh
            }
        }
        _ = evicted // closed here, after the locks (unless still borrowed)
        return result
    }

    /// Sweeps the clock hand to a slot not used since its last pass, takes its
    /// descriptor and returns its position. The ring is full: every position
    /// holds a slot. After two full turns (hits racing the hand) the next slot goes anyway.
    private static func evictOne(_ ring: inout Ring, evicted: inout PathDescriptor?) -> Int {
        var spared = 0
        while true {
            let position = ring.hand
            ring.hand = (ring.hand + 1) % ring.slots.count
            guard let victim = ring.slots[position] else { continue }
            let mustEvict = spared >= 2 * ring.slots.count
            let taken = victim.state.withLock { state -> Bool in
                if state.referenced && !mustEvict {
                    spared += 1
                    state.referenced = false
                    return false
                }
                // mayClose may make a system call (name_to_handle_at, once per inode in its
                // life) under the ring's lock: outside it, the victim could be borrowed again
                // between the check and the close.
                if let check = victim.evictionCheck, let kept = state.descriptor, !check.mayClose(kept.fd) {
                    state.position = -1 // stays open, no longer counted: its place is free
                    return true
                }
                evicted = state.descriptor
                state.descriptor = nil
                state.position = -1
                return true
            }
            if taken {
                ring.slots[position] = nil
                ring.open -= 1
                return position
            }
        }
    }

    /// Forgets `slot` (its inode is gone): its descriptor is released now.
    func discard(_ slot: DescriptorSlot) {
        let released = ring.withLock { ring -> PathDescriptor? in
            slot.state.withLock { state -> PathDescriptor? in
                guard let descriptor = state.descriptor else { return nil }
                if state.position >= 0 {
                    ring.slots[state.position] = nil
                    ring.free.append(state.position)
                    ring.open -= 1
                }
                state.descriptor = nil
                state.position = -1
                return descriptor
            }
        }
        _ = released
    }

    /// Descriptors the cache holds open now.
    var openCount: Int { ring.withLock { $0.open } }
}
