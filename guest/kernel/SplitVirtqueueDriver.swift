// The driver side of one split virtqueue (virtio 1.x, 2.7), polled. The ring
// layout comes from protocol/SplitVirtqueue.swift, shared with the daemon.
//
// Ordering: the descriptors and the available-ring slot are written before
// the available index (fence), and the index before the notification (fence).
// Device-written fields (used index, used entries, used flags) are read with
// volatile loads so each poll really reads memory.

/// One buffer of a descriptor chain.
struct VirtqueueBuffer {
    let address: UInt64
    let length: UInt32
    let deviceWritable: Bool
}

final class SplitVirtqueueDriver {
    let index: UInt16
    let size: Int
    private let layout: SplitVirtqueueLayout
    private let descriptors: UnsafeMutableRawPointer
    private let available: UnsafeMutableRawPointer
    private let used: UnsafeMutableRawPointer
    private let notifyAddress: UInt

    /// Free descriptors form a list linked through `links`, our private copy of the `next`
    /// fields: the descriptor table is shared memory, and freeing a chain must not depend on
    /// what a device may have written there. A chain takes the first free slots in list order,
    /// so `links` also walks each chain in flight.
    private var links: [UInt16]
    /// Descriptors in the chain starting at each in-flight head.
    private var chainLengths: [UInt16]
    private var freeHead: UInt16 = 0
    private(set) var freeCount: Int
    /// Our copy of avail.idx and how far we have consumed used.idx.
    private var availableIndex: UInt16 = 0
    private var lastSeenUsedIndex: UInt16 = 0
    /// Whether the last `submit` wrote the notify register (the device may ask us not to).
    private(set) var lastSubmitNotified = false
    /// How long that write took: under TCG the daemon may run before it returns.
    private(set) var lastKickNanoseconds: UInt64 = 0
    /// Heads of chains the device owns; a used id outside this set means a broken device.
    private var inFlight: [Bool]

    init(index: UInt16, size: Int, notifyAddress: UInt) {
        precondition(SplitVirtqueueLayout.isValidSize(size))
        self.index = index
        self.size = size
        self.notifyAddress = notifyAddress
        layout = SplitVirtqueueLayout(size: size)
        descriptors = SplitVirtqueueDriver.zeroedPages(layout.descriptorTableBytes)
        available = SplitVirtqueueDriver.zeroedPages(layout.availableRingBytes)
        used = SplitVirtqueueDriver.zeroedPages(layout.usedRingBytes)
        freeCount = size
        inFlight = Array(repeating: false, count: size)
        chainLengths = Array(repeating: 0, count: size)
        links = []
        links.reserveCapacity(size)
        for slot in 0..<size { links.append(UInt16(truncatingIfNeeded: slot + 1)) }   // the last link is never followed
        // We poll, so ask the device not to interrupt.
        available.storeBytes(of: SplitVirtqueueLayout.availableFlagNoInterrupt,
                             toByteOffset: SplitVirtqueueLayout.availableFlagsOffset, as: UInt16.self)
    }

    var descriptorTableAddress: UInt64 { UInt64(UInt(bitPattern: descriptors)) }
    var availableRingAddress: UInt64 { UInt64(UInt(bitPattern: available)) }
    var usedRingAddress: UInt64 { UInt64(UInt(bitPattern: used)) }

    private static func zeroedPages(_ bytes: Int) -> UnsafeMutableRawPointer {
        let rounded = (bytes + 4095) & ~4095
        let memory = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: 4096)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: rounded)
        return memory
    }

    private func storeDescriptor(_ slot: Int, _ descriptor: VirtqDescriptor) {
        precondition(slot >= 0 && slot < size)
        descriptors.storeBytes(of: descriptor, toByteOffset: layout.descriptorOffset(slot), as: VirtqDescriptor.self)
    }

    private func address(_ base: UnsafeMutableRawPointer, _ offset: Int) -> UInt {
        UInt(bitPattern: base) + UInt(offset)
    }

    /// Puts a chain (device-readable buffers first, then device-writable ones)
    /// on the available ring and notifies the device. Returns the chain's
    /// head, or nil when there are not enough free descriptors.
    func submit(_ buffers: [VirtqueueBuffer]) -> UInt16? {
        guard !buffers.isEmpty, buffers.count <= freeCount else { return nil }
        let head = freeHead
        var slot = Int(head)
        for (position, buffer) in buffers.enumerated() {
            let nextFree = links[slot]
            let isLast = position == buffers.count - 1
            var flags: UInt16 = buffer.deviceWritable ? VirtqDescriptor.flagWrite : 0
            if !isLast { flags |= VirtqDescriptor.flagNext }
            storeDescriptor(slot, VirtqDescriptor(address: buffer.address, length: buffer.length, flags: flags,
                                                  next: isLast ? 0 : nextFree))
            if isLast { freeHead = nextFree } else { slot = Int(nextFree) }
        }
        freeCount -= buffers.count
        inFlight[Int(head)] = true
        chainLengths[Int(head)] = UInt16(buffers.count)

        let ringSlot = Int(availableIndex) & (size - 1)
        volatile_store16(address(available, layout.availableEntryOffset(ringSlot)), head)
        memory_fence()
        availableIndex &+= 1
        volatile_store16(address(available, SplitVirtqueueLayout.availableIndexOffset), availableIndex)
        memory_fence()
        let usedFlags = volatile_load16(address(used, SplitVirtqueueLayout.usedFlagsOffset))
        lastSubmitNotified = usedFlags & SplitVirtqueueLayout.usedFlagNoNotify == 0
        if lastSubmitNotified {
            let before = monotonicNanoseconds()
            volatile_store16(notifyAddress, index)
            lastKickNanoseconds = monotonicNanoseconds() &- before
        } else {
            lastKickNanoseconds = 0
        }
        return head
    }

    /// Outcome of one poll of the used ring.
    enum Completion {
        case none
        case completed(VirtqUsedElement)
        /// The device returned an id that is not a chain it owns.
        case invalid(UInt32)
    }

    /// Takes the next used element, if any, and frees its chain.
    func poll() -> Completion {
        let deviceIndex = volatile_load16(address(used, SplitVirtqueueLayout.usedIndexOffset))
        if deviceIndex == lastSeenUsedIndex { return .none }
        compiler_fence()   // read the entry only after seeing the index
        let entryOffset = layout.usedEntryOffset(Int(lastSeenUsedIndex) & (size - 1))
        let element = VirtqUsedElement(id: volatile_load32(address(used, entryOffset)),
                                       length: volatile_load32(address(used, entryOffset + 4)))
        lastSeenUsedIndex &+= 1
        guard element.id < UInt32(size), inFlight[Int(element.id)] else { return .invalid(element.id) }
        inFlight[Int(element.id)] = false
        release(chainAt: UInt16(element.id))
        return .completed(element)
    }

    /// Puts the chain back at the front of the free list, walking our own links.
    private func release(chainAt head: UInt16) {
        let count = Int(chainLengths[Int(head)])
        var last = Int(head)
        for _ in 1..<count { last = Int(links[last]) }
        links[last] = freeHead
        freeHead = head
        freeCount += count
    }
}
