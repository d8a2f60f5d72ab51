import SystemSupport
import CShim
import Glibc
import SwiftFSProtocol
@testable import VhostUser

/// A pretend guest: a memfd laid out like guest RAM and mapped into the
/// test process, the way QEMU maps it. The test plays the driver by writing
/// descriptors and rings through `bytes`; the code under test sees the same
/// pages through its own `GuestMemory` mapping of the fd.
final class TestGuest {
    static let size = 1 << 20
    /// Where QEMU would have the RAM mapped (what SET_VRING_ADDR talks about).
    static let userBase: UInt64 = 0x7f00_0000_0000
    static let descriptorTable: UInt64 = 0x1000
    static let availableRing: UInt64 = 0x2000
    static let usedRing: UInt64 = 0x3000
    static let buffers: UInt64 = 0x10000

    let fd: Int32
    let bytes: UnsafeMutableRawPointer
    let queueSize: Int
    /// This queue's rings are at the static addresses plus this offset (a second queue in the same memory).
    let ringOffset: UInt64
    /// Set for a second queue's view: the guest that owns the memory.
    private let owner: TestGuest?
    var layout: SplitVirtqueueLayout { SplitVirtqueueLayout(size: queueSize) }
    var descriptorTableAddress: UInt64 { Self.descriptorTable + ringOffset }
    var availableRingAddress: UInt64 { Self.availableRing + ringOffset }
    var usedRingAddress: UInt64 { Self.usedRing + ringOffset }

    init(queueSize: Int = 16) {
        self.queueSize = queueSize
        ringOffset = 0
        owner = nil
        fd = shim_memfd_create("test-guest", 0)
        precondition(fd >= 0 && ftruncate(fd, off_t(Self.size)) == 0)
        bytes = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)!
    }

    /// Another queue in `guest`'s memory, its rings `ringOffset` bytes above the first queue's.
    init(queueIn guest: TestGuest, ringOffset: UInt64) {
        queueSize = guest.queueSize
        self.ringOffset = ringOffset
        owner = guest
        fd = guest.fd
        bytes = guest.bytes
    }

    deinit {
        guard owner == nil else { return }
        munmap(bytes, Self.size)
        close(fd)
    }

    /// A descriptor of the memory of its own (to map, then close).
    var descriptor: OwnedDescriptor { OwnedDescriptor(dup(fd)) }

    /// Guest memory as one region covering the whole memfd.
    func memory() throws -> GuestMemory {
        try GuestMemory(regions: [MemoryRegion(fd: descriptor, guestPhysicalAddress: 0, size: UInt64(Self.size),
                                               userAddress: Self.userBase, mmapOffset: 0)])
    }

    /// Guest memory as two adjacent regions split at `split` (like QEMU's RAM below and above a hole).
    func splitMemory(at split: UInt64) throws -> GuestMemory {
        try GuestMemory(regions: [
            MemoryRegion(fd: descriptor, guestPhysicalAddress: 0, size: split, userAddress: Self.userBase, mmapOffset: 0),
            MemoryRegion(fd: descriptor, guestPhysicalAddress: split, size: UInt64(Self.size) - split,
                         userAddress: Self.userBase + split, mmapOffset: split),
        ])
    }

    func setDescriptor(_ index: Int, address: UInt64, length: UInt32, flags: UInt16 = 0, next: UInt16 = 0,
                       table: UInt64? = nil) {
        (bytes + Int(table ?? descriptorTableAddress) + 16 * index).storeBytes(
            of: VirtqDescriptor(address: address, length: length, flags: flags, next: next), as: VirtqDescriptor.self)
    }

    /// Offers chain `head` on the available ring.
    func offer(_ head: UInt16) {
        let avail = bytes + Int(availableRingAddress)
        let index = avail.load(fromByteOffset: 2, as: UInt16.self)
        avail.storeBytes(of: head, toByteOffset: layout.availableEntryOffset(Int(index) % queueSize), as: UInt16.self)
        avail.storeBytes(of: index &+ 1, toByteOffset: 2, as: UInt16.self)
    }

    var usedIndex: UInt16 { (bytes + Int(usedRingAddress)).load(fromByteOffset: 2, as: UInt16.self) }

    func usedElement(_ slot: Int) -> VirtqUsedElement {
        (bytes + Int(usedRingAddress)).loadUnaligned(fromByteOffset: layout.usedEntryOffset(slot % queueSize), as: VirtqUsedElement.self)
    }

    var availableEvent: UInt16 { (bytes + Int(usedRingAddress)).load(fromByteOffset: layout.availableEventOffset, as: UInt16.self) }

    func setUsedEvent(_ value: UInt16) {
        (bytes + Int(availableRingAddress)).storeBytes(of: value, toByteOffset: layout.usedEventOffset, as: UInt16.self)
    }

    func setAvailableFlags(_ value: UInt16) {
        (bytes + Int(availableRingAddress)).storeBytes(of: value, toByteOffset: 0, as: UInt16.self)
    }

    func write<T: WireRecord>(_ value: T, at address: UInt64) {
        (bytes + Int(address)).storeBytes(of: value, as: T.self)
    }

    func read<T: WireRecord>(_: T.Type, at address: UInt64) -> T {
        (bytes + Int(address)).loadUnaligned(as: T.self)
    }

    /// Does `pointer` (in the code under test's mapping) address guest byte `offset`?
    /// The two mappings differ, so compare through a marker byte.
    func maps(_ pointer: UnsafeMutableRawPointer?, to offset: UInt64) -> Bool {
        guard let pointer else { return false }
        let marker = UInt8.random(in: 1...255)
        let saved = bytes.load(fromByteOffset: Int(offset), as: UInt8.self)
        defer { bytes.storeBytes(of: saved, toByteOffset: Int(offset), as: UInt8.self) }
        bytes.storeBytes(of: marker, toByteOffset: Int(offset), as: UInt8.self)
        guard pointer.load(as: UInt8.self) == marker else { return false }
        bytes.storeBytes(of: marker &+ 1, toByteOffset: Int(offset), as: UInt8.self)
        return pointer.load(as: UInt8.self) == marker &+ 1
    }

    func rings(_ memory: GuestMemory) throws -> SplitRingPointers {
        try SplitRingPointers(memory: memory, size: queueSize, descriptors: Self.userBase + descriptorTableAddress,
                              available: Self.userBase + availableRingAddress, used: Self.userBase + usedRingAddress)
    }
}
