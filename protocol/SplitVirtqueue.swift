// The split virtqueue layout (virtio 1.x, section 2.7) shared by the device
// side in the daemon and the driver side in the guest. All fields are
// little-endian, which is the native order on every platform we run on.

/// One entry of the descriptor table (struct virtq_desc).
public struct VirtqDescriptor: WireRecord {
    public var address: UInt64 = 0
    public var length: UInt32 = 0
    public var flags: UInt16 = 0
    public var next: UInt16 = 0
    @inlinable public init() {}
    @inlinable public init(address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        self.address = address; self.length = length; self.flags = flags; self.next = next
    }

    /// The chain continues at `next`.
    public static let flagNext: UInt16 = 1
    /// The buffer is device-writable (otherwise device-readable).
    public static let flagWrite: UInt16 = 2
    /// The buffer holds a table of indirect descriptors.
    public static let flagIndirect: UInt16 = 4

    @inlinable public var hasNext: Bool { flags & Self.flagNext != 0 }
    @inlinable public var isWritable: Bool { flags & Self.flagWrite != 0 }
    @inlinable public var isIndirect: Bool { flags & Self.flagIndirect != 0 }
}

/// One entry of the used ring (struct virtq_used_elem).
public struct VirtqUsedElement: WireRecord {
    public var id: UInt32 = 0
    public var length: UInt32 = 0
    @inlinable public init() {}
    @inlinable public init(id: UInt32, length: UInt32) { self.id = id; self.length = length }
}

/// Byte offsets of the fields of the three split-ring areas for a queue of
/// `size` entries. Each area may live at its own address.
public struct SplitVirtqueueLayout: Sendable {
    public let size: Int

    @inlinable public init(size: Int) { self.size = size }

    /// Queue sizes are powers of two up to 32768 (virtio 1.x, 2.7).
    @inlinable public static func isValidSize(_ size: Int) -> Bool {
        size > 0 && size <= 32768 && size & (size - 1) == 0
    }

    // Descriptor table: `size` descriptors of 16 bytes, 16-byte aligned.
    public static let descriptorTableAlignment = 16
    @inlinable public var descriptorTableBytes: Int { 16 * size }
    @inlinable public func descriptorOffset(_ index: Int) -> Int { 16 * index }

    // Available ring: flags u16, idx u16, ring[size] u16, used_event u16; 2-byte aligned.
    public static let availableRingAlignment = 2
    public static let availableFlagsOffset = 0
    public static let availableIndexOffset = 2
    @inlinable public func availableEntryOffset(_ slot: Int) -> Int { 4 + 2 * slot }
    @inlinable public var usedEventOffset: Int { 4 + 2 * size }
    @inlinable public var availableRingBytes: Int { 6 + 2 * size }

    // Used ring: flags u16, idx u16, ring[size] {u32 id, u32 len}, avail_event u16; 4-byte aligned.
    public static let usedRingAlignment = 4
    public static let usedFlagsOffset = 0
    public static let usedIndexOffset = 2
    @inlinable public func usedEntryOffset(_ slot: Int) -> Int { 4 + 8 * slot }
    @inlinable public var availableEventOffset: Int { 4 + 8 * size }
    @inlinable public var usedRingBytes: Int { 6 + 8 * size }

    /// avail.flags: the driver does not want interrupts (without EVENT_IDX).
    public static let availableFlagNoInterrupt: UInt16 = 1
    /// used.flags: the device does not want notifications (without EVENT_IDX).
    public static let usedFlagNoNotify: UInt16 = 1
}

/// With VIRTIO_F_EVENT_IDX: must the other side be notified after moving the
/// index from `old` to `new`, given the event index it published?
@inlinable public func virtqueueNeedsEvent(eventIndex: UInt16, new: UInt16, old: UInt16) -> Bool {
    new &- eventIndex &- 1 < new &- old
}

/// Virtio feature bits relevant to virtio-fs over vhost-user.
public enum VirtioFeature {
    public static let notifyOnEmpty: UInt64 = 1 << 24
    public static let anyLayout: UInt64 = 1 << 27
    public static let ringIndirectDescriptors: UInt64 = 1 << 28
    public static let ringEventIndex: UInt64 = 1 << 29
    /// vhost-user only: the back end speaks protocol features.
    public static let vhostUserProtocolFeatures: UInt64 = 1 << 30
    public static let version1: UInt64 = 1 << 32
    public static let accessPlatform: UInt64 = 1 << 33
    public static let ringPacked: UInt64 = 1 << 34
}

/// Device status bits (virtio 1.x, 2.1).
public enum VirtioDeviceStatus {
    public static let acknowledge: UInt8 = 1
    public static let driver: UInt8 = 2
    public static let driverOK: UInt8 = 4
    public static let featuresOK: UInt8 = 8
    public static let needsReset: UInt8 = 64
    public static let failed: UInt8 = 128
}
