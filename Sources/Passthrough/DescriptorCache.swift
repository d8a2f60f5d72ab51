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

/// Where one inode keeps its cached descriptor (if it has one now) and, for an
/// inode named by its kernel file handle, that handle. The handle is taken only
/// when the cache is about to close the descriptor: most inodes never get that
/// far (the cache holds half the descriptor limit), so their lookup makes no
/// name_to_handle_at. A file whose handle cannot stand in for its descriptor
/// (on another mount than the share's, or the call fails) keeps the descriptor.
/// (The handle lives in the slot's own state, not in an object of its own: one
/// allocation and one lock fewer per inode, which a LOOKUP soon FORGOTTEN pays in full.)
final class DescriptorSlot: Sendable {
    fileprivate struct State {
        var descriptor: PathDescriptor?
        /// Used since the clock hand last passed: spared once.
        var referenced = false
        /// Index in the cache's ring while `descriptor` is set and counted (-1
        /// once kept for good); guarded by the cache's lock too.
        var position = -1
        /// The file's handle, once taken (`handleMount` set).
        var handle: KernelFileHandle?
    }
    fileprivate let state: Mutex<State>
    /// Set for an inode named by file handle: the mount its handle must be on
    /// (the share's) for the descriptor to be closed. nil: the descriptor may
    /// always be closed (its owner reopens it some other way).
    let handleMount: Int32?

    /// A slot whose descriptor may always be closed.
    init() {
        state = Mutex(State())
        handleMount = nil
    }

    /// The slot of a new inode named by file handle, holding `descriptor` outside
    /// the cache's count until `DescriptorCache.admit` counts it in.
    init(handle: KernelFileHandle?, mount: Int32, holding descriptor: PathDescriptor) {
        state = Mutex(State(descriptor: descriptor, referenced: true, handle: handle))
        handleMount = mount
    }

    /// The file handle, once taken (nil before, and for slots without `handleMount`).
    var handle: KernelFileHandle? { state.withLock { $0.handle } }

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

extension DescriptorSlot.State {
    /// Whether the descriptor `fd` may be closed: its handle is (now) taken and on
    /// `mount`. No keeps it open for good, outside the cache's count.
    fileprivate mutating func takeHandle(of fd: Int32, mount: Int32) -> Bool {
        if handle != nil { return true }
        guard let (found, foundMount) = try? KernelFileHandle.of(fd), foundMount == mount else { return false }
        handle = found
        return true
    }
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
            let position = unusedPlace(&ring)
            return slot.state.withLock { state -> PathDescriptor in
                if let existing = state.descriptor {
                    if let position { ring.free.append(position) }
                    state.referenced = true
                    return existing
                }
                let place = position ?? Self.evictOne(&ring, evicted: &evicted)
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

    /// Counts in a slot made holding its descriptor (`DescriptorSlot(handle:mount:holding:)`),
    /// evicting another if the cache is full. Called once, by the slot's maker.
    func admit(_ slot: DescriptorSlot) {
        var evicted: PathDescriptor?
        ring.withLock { ring in
            let place = unusedPlace(&ring) ?? Self.evictOne(&ring, evicted: &evicted)
            ring.slots[place] = slot
            ring.open += 1
            slot.state.withLock { $0.position = place }
        }
        _ = evicted // closed here, after the locks (unless still borrowed)
    }

    /// A place no slot holds: a freed one, or a new one while under capacity; nil when full.
    private func unusedPlace(_ ring: inout Ring) -> Int? {
        if let free = ring.free.popLast() { return free }
        guard ring.slots.count < capacity else { return nil }
        ring.slots.append(nil)
        return ring.slots.count - 1
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
                // The handle is taken (name_to_handle_at, once per inode in its life) under
                // the ring's lock: outside it, the victim could be borrowed again between
                // the check and the close.
                if let mount = victim.handleMount, let kept = state.descriptor, !state.takeHandle(of: kept.fd, mount: mount) {
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
