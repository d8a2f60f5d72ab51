// libFuzzer target: the split-virtqueue descriptor-chain walker over guest
// memory whose bytes (descriptor table, indirect tables) come from the input.
// Oracle beyond "no crash": every segment the walker returns lies inside the
// mapped guest memory and the totals match the segments.
//
// Input: [queue size: u16][head: u16][options: u8][table address: u16][bytes of guest memory...]
// options bit 0: indirect descriptors negotiated; bit 1: memory as two
// adjacent regions (a buffer may span them); bit 2: a gap between them.
import CShim
import Glibc
import SwiftFSProtocol
import SystemSupport
import VhostUser

private let memorySize = 64 * 1024
private let split = memorySize / 2

/// One memfd for the process; each input overwrites its bytes.
private let memoryFd: Int32 = {
    let fd = shim_memfd_create("fuzz-guest", 0)
    precondition(fd >= 0 && ftruncate(fd, off_t(memorySize)) == 0)
    return fd
}()
private nonisolated(unsafe) let hostView: UnsafeMutableRawPointer = {
    mmap(nil, memorySize, PROT_READ | PROT_WRITE, MAP_SHARED, memoryFd, 0)!
}()
private let layouts: [GuestMemory] = {
    let whole = try! GuestMemory(regions: [
        MemoryRegion(fd: OwnedDescriptor(dup(memoryFd)), guestPhysicalAddress: 0, size: UInt64(memorySize), userAddress: 0, mmapOffset: 0),
    ])
    let adjacent = try! GuestMemory(regions: [
        MemoryRegion(fd: OwnedDescriptor(dup(memoryFd)), guestPhysicalAddress: 0, size: UInt64(split), userAddress: 0, mmapOffset: 0),
        MemoryRegion(fd: OwnedDescriptor(dup(memoryFd)), guestPhysicalAddress: UInt64(split), size: UInt64(split),
                     userAddress: UInt64(split), mmapOffset: UInt64(split)),
    ])
    // The upper half sits 1 MiB higher in guest-physical space: addresses in the gap are outside memory.
    let gapped = try! GuestMemory(regions: [
        MemoryRegion(fd: OwnedDescriptor(dup(memoryFd)), guestPhysicalAddress: 0, size: UInt64(split), userAddress: 0, mmapOffset: 0),
        MemoryRegion(fd: OwnedDescriptor(dup(memoryFd)), guestPhysicalAddress: 0x10_0000, size: UInt64(split),
                     userAddress: UInt64(split), mmapOffset: UInt64(split)),
    ])
    return [whole, adjacent, gapped, gapped]
}()
private nonisolated(unsafe) var buffers = ChainBuffers()

private func inside(_ segment: iovec, _ memory: GuestMemory) -> Bool {
    guard let base = segment.iov_base else { return segment.iov_len == 0 }
    return memory.regions.contains { region in
        base >= region.base && base + segment.iov_len <= region.base + Int(region.size)
    }
}

public enum DescriptorChainTarget {
    /// One fuzz input (libFuzzer, or a corpus file replayed by FuzzReplayTests).
    public static func run(_ data: UnsafePointer<UInt8>, _ size: Int) {
        guard size >= 7 else { return }
        let input = UnsafeRawBufferPointer(start: data, count: size)
        let queueSize = Int(input.loadUnaligned(fromByteOffset: 0, as: UInt16.self)) % 1024 + 1
        let head = input.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        let options = input[4]
        let tableAddress = UInt64(input.loadUnaligned(fromByteOffset: 5, as: UInt16.self))
        memset(hostView, 0, memorySize)
        let contents = UnsafeRawBufferPointer(rebasing: input[7...])
        hostView.copyMemory(from: contents.baseAddress ?? UnsafeRawPointer(hostView), byteCount: min(contents.count, memorySize))

        let memory = layouts[Int(options >> 1) & 3]
        // As DeviceQueue does: the table must lie inside guest memory.
        guard let table = memory.pointer(guestAddress: tableAddress, length: 16 * queueSize) else { return }
        let walker = DescriptorChainWalker(table: UnsafeRawPointer(table), queueSize: queueSize,
                                           indirectAllowed: options & 1 != 0)
        do throws(DescriptorChainError) {
            try walker.walk(head: head, memory: memory, into: &buffers)
        } catch {
            return
        }
        var readable = 0, writable = 0
        for segment in buffers.readable {
            precondition(inside(segment, memory), "readable segment outside guest memory")
            readable += segment.iov_len
        }
        for segment in buffers.writable {
            precondition(inside(segment, memory), "writable segment outside guest memory")
            writable += segment.iov_len
        }
        precondition(readable == buffers.readableBytes && writable == buffers.writableBytes, "totals disagree with segments")
    }
}
