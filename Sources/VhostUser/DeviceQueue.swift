import CShim
import SwiftFSProtocol

/// Where a split virtqueue's three areas are in host memory.
public struct SplitRingPointers {
    public let descriptors: UnsafeMutableRawPointer
    public let available: UnsafeMutableRawPointer
    public let used: UnsafeMutableRawPointer

    public init(descriptors: UnsafeMutableRawPointer, available: UnsafeMutableRawPointer, used: UnsafeMutableRawPointer) {
        self.descriptors = descriptors
        self.available = available
        self.used = used
    }

    /// Translates the ring addresses of SET_VRING_ADDR (front-end virtual
    /// addresses) through `memory`, checking that each whole area is mapped
    /// and aligned as the spec requires.
    public init(memory: GuestMemory, size: Int, descriptors: UInt64, available: UInt64, used: UInt64) throws(VhostUserError) {
        let layout = SplitVirtqueueLayout(size: size)
        guard descriptors % UInt64(SplitVirtqueueLayout.descriptorTableAlignment) == 0,
              available % UInt64(SplitVirtqueueLayout.availableRingAlignment) == 0,
              used % UInt64(SplitVirtqueueLayout.usedRingAlignment) == 0
        else { throw .invalidQueue("misaligned ring address") }
        guard let d = memory.pointer(userAddress: descriptors, length: layout.descriptorTableBytes),
              let a = memory.pointer(userAddress: available, length: layout.availableRingBytes),
              let u = memory.pointer(userAddress: used, length: layout.usedRingBytes)
        else { throw .invalidQueue("ring outside guest memory") }
        self.init(descriptors: d, available: a, used: u)
    }
}

/// Why a queue stopped: the driver broke the ring protocol itself (not just
/// one chain), so nothing further on it can be trusted.
public enum DeviceQueueError: Error, Equatable, Sendable {
    case availableIndexJumped(from: UInt16, to: UInt16)
    case headOutOfRange(UInt16)
}

/// The device side of one split virtqueue: takes heads off the available
/// ring, puts used elements on the used ring, and decides when the driver
/// wants an interrupt. Not thread-safe: its owner serializes access.
public struct DeviceQueue {
    public let size: Int
    public let rings: SplitRingPointers
    public let layout: SplitVirtqueueLayout
    public let eventIndex: Bool
    /// Next available-ring slot to consume (what GET_VRING_BASE returns).
    public private(set) var lastAvailableIndex: UInt16
    /// Our copy of used.idx: only the device writes it.
    public private(set) var usedIndex: UInt16
    /// used.idx when the driver was last notified; not meaningful until the
    /// first notification after a start, which is always sent (the driver's
    /// used_event may be stale from before a restart).
    private var signalledUsedIndex: UInt16
    private var signalledUsedIndexValid = false

    public init(size: Int, rings: SplitRingPointers, lastAvailableIndex: UInt16, eventIndex: Bool) {
        self.size = size
        self.rings = rings
        self.layout = SplitVirtqueueLayout(size: size)
        self.eventIndex = eventIndex
        self.lastAvailableIndex = lastAvailableIndex
        // The used index lives in guest memory across daemon stops (migration, reconnect).
        self.usedIndex = shim_load_acquire_u16(rings.used + SplitVirtqueueLayout.usedIndexOffset)
        self.signalledUsedIndex = usedIndex
    }

    /// A walker over this queue's descriptor table.
    public func chainWalker(indirectAllowed: Bool) -> DescriptorChainWalker {
        DescriptorChainWalker(table: UnsafeRawPointer(rings.descriptors), queueSize: size, indirectAllowed: indirectAllowed)
    }

    /// avail.idx as the driver last published it (acquire: the ring entries
    /// and descriptors it covers are visible after this load).
    public var availableIndex: UInt16 {
        shim_load_acquire_u16(rings.available + SplitVirtqueueLayout.availableIndexOffset)
    }

    /// The next head to process, nil when the ring is empty.
    public mutating func popAvailable() throws(DeviceQueueError) -> UInt16? {
        let published = availableIndex
        if published == lastAvailableIndex { return nil }
        // More than a full ring outstanding is impossible for a sane driver.
        guard Int(published &- lastAvailableIndex) <= size else {
            throw .availableIndexJumped(from: lastAvailableIndex, to: published)
        }
        let slot = Int(lastAvailableIndex) & (size - 1)
        let head = UnsafeRawPointer(rings.available).loadUnaligned(fromByteOffset: layout.availableEntryOffset(slot), as: UInt16.self)
        guard Int(head) < size else { throw .headOutOfRange(head) }
        lastAvailableIndex &+= 1
        return head
    }

    /// With EVENT_IDX, tells the driver to kick when it adds the entry after
    /// the ones consumed so far; returns true if more became available in
    /// the meantime (so the caller drains again instead of sleeping).
    public mutating func enableNotification() -> Bool {
        if eventIndex {
            shim_store_release_u16(rings.used + layout.availableEventOffset, lastAvailableIndex)
        }
        // Order the avail_event store before re-reading avail.idx; otherwise
        // a kick could be suppressed for an entry we never see.
        shim_fence_seq_cst()
        return availableIndex != lastAvailableIndex
    }

    /// Returns chain `head` to the driver with `length` bytes written.
    public mutating func pushUsed(head: UInt16, length: UInt32) {
        let slot = Int(usedIndex) & (size - 1)
        let element = VirtqUsedElement(id: UInt32(head), length: length)
        rings.used.storeBytes(of: element, toByteOffset: layout.usedEntryOffset(slot), as: VirtqUsedElement.self)
        usedIndex &+= 1
        // Release: the element is visible before the index that covers it.
        shim_store_release_u16(rings.used + SplitVirtqueueLayout.usedIndexOffset, usedIndex)
    }

    /// Should the driver be interrupted for the used entries pushed since
    /// the last notification?
    public mutating func needsNotification() -> Bool {
        // The used.idx store must be visible before reading the driver's event index/flags.
        shim_fence_seq_cst()
        let old = signalledUsedIndex
        let new = usedIndex
        let valid = signalledUsedIndexValid
        signalledUsedIndex = new
        signalledUsedIndexValid = true
        if valid && old == new { return false }
        if eventIndex {
            if !valid { return true }
            let usedEvent = shim_load_acquire_u16(rings.available + layout.usedEventOffset)
            return virtqueueNeedsEvent(eventIndex: usedEvent, new: new, old: old)
        }
        let flags = shim_load_acquire_u16(rings.available + SplitVirtqueueLayout.availableFlagsOffset)
        return flags & SplitVirtqueueLayout.availableFlagNoInterrupt == 0
    }
}
