import SystemSupport
import CShim
import FuseServer
import Glibc
import Passthrough
import ScatterGather
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Walking descriptor chains into readable and writable segments.
@Suite struct DescriptorChainTests {
    let guest = TestGuest(queueSize: 16)
    let memory: GuestMemory
    let walker: DescriptorChainWalker
    let next = VirtqDescriptor.flagNext, write = VirtqDescriptor.flagWrite, indirect = VirtqDescriptor.flagIndirect

    init() throws {
        memory = try guest.memory()
        walker = DescriptorChainWalker(table: UnsafeRawPointer(guest.bytes + Int(TestGuest.descriptorTable)),
                                       queueSize: 16, indirectAllowed: true)
    }

    func walk(_ head: UInt16) -> Result<ChainBuffers, DescriptorChainError> {
        var buffers = ChainBuffers()
        do { try walker.walk(head: head, memory: memory, into: &buffers); return .success(buffers) }
        catch { return .failure(error) }
    }

    func failure(_ head: UInt16) -> DescriptorChainError? {
        if case .failure(let error) = walk(head) { return error }
        return nil
    }

    @Test func splitsAChainIntoReadableThenWritableSegments() throws {
        guest.setDescriptor(3, address: 0x10000, length: 40, flags: next, next: 7)
        guest.setDescriptor(7, address: 0x11000, length: 24, flags: next, next: 1)
        guest.setDescriptor(1, address: 0x12000, length: 4096, flags: write)
        let buffers = try walk(3).get()
        #expect(buffers.readable.count == 2 && buffers.readableBytes == 64)
        #expect(buffers.writable.count == 1 && buffers.writableBytes == 4096)
        #expect(guest.maps(buffers.readable[0].iov_base, to: 0x10000))
        #expect(guest.maps(buffers.writable[0].iov_base, to: 0x12000))
    }

    @Test func followsAnIndirectTable() throws {
        let table: UInt64 = 0x20000
        guest.setDescriptor(0, address: 0x10000, length: 48, flags: next, next: 1, table: table)
        guest.setDescriptor(1, address: 0x11000, length: 100, flags: write | next, next: 2, table: table)
        guest.setDescriptor(2, address: 0x12000, length: 200, flags: write, table: table)
        guest.setDescriptor(5, address: table, length: 48, flags: indirect)
        let buffers = try walk(5).get()
        #expect(buffers.readableBytes == 48 && buffers.writableBytes == 300 && buffers.writable.count == 2)
    }

    @Test func refusesIndirectWhenNotNegotiated() {
        guest.setDescriptor(0, address: 0x20000, length: 16, flags: indirect)
        let strict = DescriptorChainWalker(table: walker.table, queueSize: 16, indirectAllowed: false)
        var buffers = ChainBuffers()
        #expect(throws: DescriptorChainError.indirectNotNegotiated) { try strict.walk(head: 0, memory: memory, into: &buffers) }
    }

    @Test func refusesNestedIndirectTables() {
        guest.setDescriptor(0, address: 0x20000, length: 16, flags: indirect, table: 0x20000)
        guest.setDescriptor(0, address: 0x20000, length: 16, flags: indirect)
        #expect(failure(0) == .nestedIndirect)
    }

    @Test func refusesIndirectTablesOfBadSizeOrOutsideMemory() {
        guest.setDescriptor(0, address: 0x20000, length: 24, flags: indirect)
        guest.setDescriptor(1, address: 0x20000, length: 0, flags: indirect)
        guest.setDescriptor(2, address: UInt64(TestGuest.size - 16), length: 32, flags: indirect)
        #expect(failure(0) == .badIndirectTable(address: 0x20000, length: 24))
        #expect(failure(1) == .badIndirectTable(address: 0x20000, length: 0))
        #expect(failure(2) == .badIndirectTable(address: UInt64(TestGuest.size - 16), length: 32))
    }

    @Test func refusesALoopInsideAnIndirectTable() {
        guest.setDescriptor(0, address: 0x10000, length: 8, flags: next, next: 1, table: 0x20000)
        guest.setDescriptor(1, address: 0x10000, length: 8, flags: next, next: 0, table: 0x20000)
        guest.setDescriptor(4, address: 0x20000, length: 32, flags: indirect)
        #expect(failure(4) == .tooLong)
    }

    @Test func aLoopInAHugeIndirectTableEndsAfterTheLongestPossibleChain() throws {
        // A 2 MiB table (131072 entries) whose first two entries point at each other.
        let tableSize = 2 << 20
        let fd = shim_memfd_create("indirect-table", 0)
        #expect(fd >= 0 && ftruncate(fd, off_t(tableSize)) == 0)
        defer { close(fd) }
        let table = mmap(nil, tableSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)!
        defer { munmap(table, tableSize) }
        table.storeBytes(of: VirtqDescriptor(address: 0x10000, length: 1, flags: next, next: 1), as: VirtqDescriptor.self)
        table.storeBytes(of: VirtqDescriptor(address: 0x10000, length: 1, flags: next, next: 0), toByteOffset: 16,
                         as: VirtqDescriptor.self)
        let tableAddress = UInt64(TestGuest.size)
        let both = try GuestMemory(regions: [
            MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0, size: UInt64(TestGuest.size), userAddress: 0, mmapOffset: 0),
            MemoryRegion(fd: OwnedDescriptor(dup(fd)), guestPhysicalAddress: tableAddress, size: UInt64(tableSize), userAddress: 1 << 40, mmapOffset: 0),
        ])
        guest.setDescriptor(0, address: tableAddress, length: UInt32(tableSize), flags: indirect)
        var buffers = ChainBuffers()
        #expect(throws: DescriptorChainError.tooLong) { try walker.walk(head: 0, memory: both, into: &buffers) }
        // Not one segment per table entry: at most one per descriptor a loop-free chain could have.
        #expect(buffers.readable.count <= 65536)
    }

    @Test func refusesBuffersOutsideGuestMemory() {
        guest.setDescriptor(0, address: UInt64(TestGuest.size), length: 16)
        guest.setDescriptor(1, address: UInt64(TestGuest.size - 8), length: 16, flags: write)
        #expect(failure(0) == .bufferOutsideMemory(address: UInt64(TestGuest.size), length: 16))
        #expect(failure(1) == .bufferOutsideMemory(address: UInt64(TestGuest.size - 8), length: 16))
    }

    @Test func refusesAddressPlusLengthOverflow() {
        guest.setDescriptor(0, address: UInt64.max - 15, length: UInt32.max, flags: write)
        #expect(failure(0) == .bufferOutsideMemory(address: UInt64.max - 15, length: UInt32.max))
    }

    @Test func refusesLoops() {
        guest.setDescriptor(0, address: 0x10000, length: 8, flags: next, next: 1)
        guest.setDescriptor(1, address: 0x10000, length: 8, flags: next, next: 0)
        guest.setDescriptor(2, address: 0x10000, length: 8, flags: next, next: 2)
        #expect(failure(0) == .tooLong)
        #expect(failure(2) == .tooLong)
    }

    @Test func refusesChainsLongerThanTheQueue() {
        for i in 0..<16 { guest.setDescriptor(i, address: 0x10000, length: 1, flags: next, next: UInt16((i + 1) % 16)) }
        #expect(failure(0) == .tooLong)
    }

    @Test func refusesIndicesOutsideTheTable() {
        guest.setDescriptor(0, address: 0x10000, length: 8, flags: next, next: 16)
        #expect(failure(0) == .nextOutOfRange(16))
        #expect(failure(16) == .headOutOfRange(16))
        #expect(failure(0xffff) == .headOutOfRange(0xffff))
    }

    @Test func refusesReadableAfterWritable() {
        guest.setDescriptor(0, address: 0x10000, length: 8, flags: write | next, next: 1)
        guest.setDescriptor(1, address: 0x11000, length: 8)
        // Even a zero-length writable descriptor ends the readable part.
        guest.setDescriptor(2, address: 0x10000, length: 0, flags: write | next, next: 1)
        #expect(failure(0) == .readableAfterWritable)
        #expect(failure(2) == .readableAfterWritable)
    }

    @Test func skipsZeroLengthBuffers() throws {
        guest.setDescriptor(0, address: 0x10000, length: 0, flags: next, next: 1)
        guest.setDescriptor(1, address: 0x11000, length: 16, flags: write)
        let buffers = try walk(0).get()
        #expect(buffers.readable.isEmpty && buffers.readableBytes == 0 && buffers.writableBytes == 16)
    }

    @Test func refusesTotalsBeyondFourGigabytes() throws {
        // A sparse 6 GiB memfd: translation never touches the pages, so this is cheap.
        let huge6 = OwnedDescriptor(shim_memfd_create("huge-guest", 0))
        #expect(huge6.rawValue >= 0 && ftruncate(huge6.rawValue, off_t(6 << 30)) == 0)
        let huge = try GuestMemory(regions: [MemoryRegion(fd: huge6, guestPhysicalAddress: 0, size: 6 << 30,
                                                          userAddress: 0, mmapOffset: 0)])
        guest.setDescriptor(0, address: 0x10000, length: 0xffff_0000, flags: write | next, next: 1)
        guest.setDescriptor(1, address: 0x10000, length: 0xffff_0000, flags: write)
        var buffers = ChainBuffers()
        #expect(throws: DescriptorChainError.totalTooLarge) { try walker.walk(head: 0, memory: huge, into: &buffers) }
    }

    /// The handler decides from the header it copies (the transport does not read FUSE bytes).
    func mayBlock(_ buffers: ChainBuffers) throws -> Bool {
        let server = try makePassthroughServer(options: PassthroughOptions(sharedDir: "/tmp"))
        return buffers.readable.withUnsafeBufferPointer { server.readHead(ScatterReader(segments: $0)).mayBlock }
    }

    @Test func recognisesABlockingLockRequestEvenWithASplitHeader() throws {
        var header = FuseInHeader()
        header.opcode = FuseOpcode.setlkw.rawValue
        guest.write(header, at: 0x10000)
        guest.setDescriptor(0, address: 0x10000, length: UInt32(FuseInHeader.wireSize))
        #expect(try mayBlock(try walk(0).get()))
        guest.setDescriptor(1, address: 0x10000, length: 6, flags: next, next: 2)
        guest.setDescriptor(2, address: 0x10006, length: 34)
        #expect(try mayBlock(try walk(1).get()))
        header.opcode = FuseOpcode.setlk.rawValue
        guest.write(header, at: 0x10000)
        #expect(try !mayBlock(try walk(1).get()))
        guest.setDescriptor(3, address: 0x10000, length: 4)
        #expect(try !mayBlock(try walk(3).get()), "too short to tell: not blocking")
    }
}
