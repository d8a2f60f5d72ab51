import Glibc
import Synchronization

/// An immutable snapshot of the guest's memory table. Workers take a
/// reference to the current snapshot once per batch and translate through
/// it without locking; a new table produces a new snapshot, and a region is
/// unmapped only when no snapshot refers to it any more.
public final class GuestMemory: Sendable {
    /// Sorted by guest-physical address; never overlapping.
    public let regions: [MemoryRegion]
    /// What translating a guest-physical address needs of each region, in the
    /// same order: plain values, so a lookup per descriptor retains nothing
    /// (`regions` keeps the mappings alive).
    private let bounds: [RegionBounds]

    public static let empty = GuestMemory(sorted: [])

    public init(regions: [MemoryRegion]) throws(VhostUserError) {
        let sorted = regions.sorted { $0.guestPhysicalAddress < $1.guestPhysicalAddress }
        for i in sorted.indices.dropFirst() where sorted[i - 1].overlaps(sorted[i]) {
            throw .invalidMemoryRegion("regions at 0x\(String(sorted[i - 1].guestPhysicalAddress, radix: 16)) and 0x\(String(sorted[i].guestPhysicalAddress, radix: 16)) overlap")
        }
        self.regions = sorted
        self.bounds = sorted.map(RegionBounds.init)
    }

    private init(sorted: [MemoryRegion]) {
        self.regions = sorted
        self.bounds = sorted.map(RegionBounds.init)
    }

    /// A snapshot with `region` added.
    public func adding(_ region: MemoryRegion) throws(VhostUserError) -> GuestMemory {
        try GuestMemory(regions: regions + [region])
    }

    /// A snapshot without the region at this guest-physical address and
    /// size, or nil if there is none. (The front end's user address of a
    /// region can change between ADD and REM, so it is not compared.)
    public func removing(guestPhysicalAddress: UInt64, size: UInt64) -> GuestMemory? {
        guard let index = regions.firstIndex(where: {
            $0.guestPhysicalAddress == guestPhysicalAddress && $0.size == size
        }) else { return nil }
        var remaining = regions
        remaining.remove(at: index)
        return GuestMemory(sorted: remaining)
    }

    /// The region holding guest-physical `address`, and the offset into it.
    @inline(__always)
    func region(containingGuestAddress address: UInt64) -> (RegionBounds, UInt64)? {
        // Few regions (typically 2-3): a linear scan beats a binary search.
        for region in bounds where address >= region.guestPhysicalAddress {
            let offset = address - region.guestPhysicalAddress
            if offset < region.size { return (region, offset) }
        }
        return nil
    }

    /// A pointer to `length` contiguous bytes at guest-physical `address`,
    /// or nil if they are not entirely inside one region.
    public func pointer(guestAddress address: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        guard length >= 0, let (region, offset) = region(containingGuestAddress: address),
              UInt64(length) <= region.size - offset else { return nil }
        return region.base + Int(offset)
    }

    /// A pointer to `length` contiguous bytes at `address` in the front
    /// end's (QEMU's) virtual address space, as ring addresses are given.
    public func pointer(userAddress address: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        guard length >= 0 else { return nil }
        for region in regions where address >= region.userAddress {
            let offset = address - region.userAddress
            if offset < region.size, UInt64(length) <= region.size - offset {
                return region.base + Int(offset)
            }
        }
        return nil
    }

    /// Appends iovecs covering `length` bytes at guest-physical `address`;
    /// a buffer may span adjacent regions. Bytes that continue the last iovec
    /// in our address space extend it (a large O_DIRECT buffer in a guest huge
    /// page is then one iovec for preadv/pwritev, not one per 4 KiB
    /// descriptor). Returns false (leaving `segments` as it was) if any byte
    /// lies outside guest memory.
    public func appendSegments(guestAddress address: UInt64, length: UInt32, to segments: inout [iovec]) -> Bool {
        guard length > 0 else { return true }
        // The common case: the buffer lies in one region.
        if let (region, offset) = region(containingGuestAddress: address), UInt64(length) <= region.size - offset {
            append(region.base + Int(offset), Int(length), to: &segments)
            return true
        }
        let start = segments.count
        let lastLength = segments.last?.iov_len ?? 0
        var address = address
        var left = UInt64(length)
        while left > 0 {
            guard let (region, offset) = region(containingGuestAddress: address) else { break }
            let take = min(left, region.size - offset)
            append(region.base + Int(offset), Int(take), to: &segments)
            left -= take
            // Cannot overflow: region end - 1 fits in UInt64 and take ends at most there + 1,
            // and if more is left the next lookup starts at the region's end.
            let (next, overflow) = address.addingReportingOverflow(take)
            if overflow && left > 0 { break }
            address = next
        }
        if left == 0 { return true }
        segments.removeSubrange(start...)
        if start > 0 { segments[start - 1].iov_len = lastLength }
        return false
    }

    /// Appends a segment, or extends the last one if these bytes continue it.
    @inline(__always)
    private func append(_ base: UnsafeMutableRawPointer, _ length: Int, to segments: inout [iovec]) {
        if let last = segments.last, let lastBase = last.iov_base, lastBase + last.iov_len == base {
            segments[segments.count - 1].iov_len += length
        } else {
            segments.append(iovec(iov_base: base, iov_len: length))
        }
    }
}

/// A region's translation data, copied out of its MemoryRegion.
///
/// @unchecked Sendable: immutable; `base` points into a mapping its
/// snapshot's MemoryRegion keeps alive (see MemoryRegion).
struct RegionBounds: @unchecked Sendable {
    let guestPhysicalAddress: UInt64
    let size: UInt64
    let base: UnsafeMutableRawPointer

    init(_ region: MemoryRegion) {
        guestPhysicalAddress = region.guestPhysicalAddress
        size = region.size
        base = region.base
    }
}

/// The current memory snapshot, swapped as a whole by the control thread.
/// Workers do not lock per request: each keeps a `GuestMemoryCache` and
/// takes the lock only when the generation number says the table changed.
public final class GuestMemoryMap: Sendable {
    private let current = Mutex((memory: GuestMemory.empty, generation: UInt64(0)))
    private let generation = Atomic<UInt64>(0)

    public init() {}

    public var snapshot: GuestMemory { current.withLock { $0.memory } }

    public func replace(with memory: GuestMemory) {
        current.withLock {
            $0 = (memory, $0.generation &+ 1)
            generation.store($0.generation, ordering: .releasing)
        }
    }

    /// The latest snapshot and its generation.
    func load() -> (GuestMemory, UInt64) { current.withLock { ($0.memory, $0.generation) } }

    /// Cheap check for a change: one atomic load.
    func currentGeneration() -> UInt64 { generation.load(ordering: .acquiring) }
}

/// One thread's reference to the memory table. It keeps the snapshot it
/// last used alive (and mapped) until it sees a newer one.
public struct GuestMemoryCache {
    /// The snapshot as of the last `refresh` (read in place: no retain per request).
    public private(set) var memory: GuestMemory = .empty
    private var generation = UInt64.max

    public init() {}

    /// Takes the map's latest snapshot if the table changed since the last call.
    public mutating func refresh(_ map: GuestMemoryMap) {
        if map.currentGeneration() != generation { (memory, generation) = map.load() }
    }
}
