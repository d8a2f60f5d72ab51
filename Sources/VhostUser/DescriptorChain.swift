import Glibc
import SwiftFSProtocol

/// Why a descriptor chain was refused. The chain is then returned to the
/// guest with length 0; the queue keeps running.
public enum DescriptorChainError: Error, Equatable, Sendable {
    case headOutOfRange(UInt16)
    case nextOutOfRange(UInt16)
    case bufferOutsideMemory(address: UInt64, length: UInt32)
    /// More descriptors than the table holds: a loop, or a corrupt chain.
    case tooLong
    case readableAfterWritable
    case nestedIndirect
    case indirectNotNegotiated
    case indirectWithNext
    case badIndirectTable(address: UInt64, length: UInt32)
    /// The readable or writable total exceeds 4 GiB (lengths are u32 on the used ring).
    case totalTooLarge
}

/// The guest buffers of one request: device-readable segments (the
/// request) followed by device-writable ones (room for the reply). A worker
/// keeps one and reuses its arrays, so walking a chain allocates nothing
/// once the arrays have grown to the largest chain seen.
public struct ChainBuffers {
    public var readable: [iovec] = []
    public var writable: [iovec] = []
    public private(set) var readableBytes = 0
    public private(set) var writableBytes = 0
    /// A writable descriptor was seen (even a zero-length one).
    private var sawWritable = false

    public init() {
        readable.reserveCapacity(64)
        writable.reserveCapacity(64)
    }

    mutating func reset() {
        // One removeLast per segment (a chain has a few) keeps the capacity and costs far
        // less than removeAll(keepingCapacity:), which goes through replaceSubrange.
        while !readable.isEmpty { readable.removeLast() }
        while !writable.isEmpty { writable.removeLast() }
        readableBytes = 0
        writableBytes = 0
        sawWritable = false
    }

    /// Both segment lists at once. Borrowing `self` here (not nesting two closures over
    /// an `inout` ChainBuffers in the caller) spares a retain and release of each array.
    @inline(__always)
    public func withSegments<R>(_ body: (_ readable: UnsafeBufferPointer<iovec>,
                                         _ writable: UnsafeBufferPointer<iovec>) -> R) -> R {
        readable.withUnsafeBufferPointer { readable in
            writable.withUnsafeBufferPointer { writable in body(readable, writable) }
        }
    }

    mutating func add(_ descriptor: VirtqDescriptor, memory: GuestMemory) throws(DescriptorChainError) {
        if descriptor.isWritable {
            sawWritable = true
            guard memory.appendSegments(guestAddress: descriptor.address, length: descriptor.length, to: &writable)
            else { throw .bufferOutsideMemory(address: descriptor.address, length: descriptor.length) }
            writableBytes += Int(descriptor.length)
        } else {
            guard !sawWritable else { throw .readableAfterWritable }
            guard memory.appendSegments(guestAddress: descriptor.address, length: descriptor.length, to: &readable)
            else { throw .bufferOutsideMemory(address: descriptor.address, length: descriptor.length) }
            readableBytes += Int(descriptor.length)
        }
        guard readableBytes <= Int(UInt32.max), writableBytes <= Int(UInt32.max) else { throw .totalTooLarge }
    }
}

/// Walks a descriptor chain of a split virtqueue (virtio 1.x, 2.7.5 and
/// 2.7.5.3) into `ChainBuffers`. Each descriptor is copied out of shared
/// memory once, so the guest cannot change it between check and use.
public struct DescriptorChainWalker {
    /// The descriptor table in host memory, `queueSize` entries.
    public let table: UnsafeRawPointer
    public let queueSize: Int
    public let indirectAllowed: Bool

    /// The most descriptors an indirect chain can have without a loop.
    static let longestIndirectChain = Int(UInt16.max) + 1

    public init(table: UnsafeRawPointer, queueSize: Int, indirectAllowed: Bool) {
        self.table = table
        self.queueSize = queueSize
        self.indirectAllowed = indirectAllowed
    }

    public func walk(head: UInt16, memory: GuestMemory, into buffers: inout ChainBuffers) throws(DescriptorChainError) {
        buffers.reset()
        guard Int(head) < queueSize else { throw .headOutOfRange(head) }
        var index = Int(head)
        var visited = 0
        while true {
            visited += 1
            guard visited <= queueSize else { throw .tooLong }
            let descriptor = table.loadUnaligned(fromByteOffset: 16 * index, as: VirtqDescriptor.self)
            if descriptor.isIndirect {
                guard indirectAllowed else { throw .indirectNotNegotiated }
                // The spec forbids INDIRECT with NEXT; an indirect table ends the chain.
                guard !descriptor.hasNext else { throw .indirectWithNext }
                try walkIndirect(descriptor, memory: memory, into: &buffers)
                return
            }
            try buffers.add(descriptor, memory: memory)
            guard descriptor.hasNext else { return }
            guard Int(descriptor.next) < queueSize else { throw .nextOutOfRange(descriptor.next) }
            index = Int(descriptor.next)
        }
    }

    private func walkIndirect(_ indirect: VirtqDescriptor, memory: GuestMemory,
                              into buffers: inout ChainBuffers) throws(DescriptorChainError) {
        let length = Int(indirect.length)
        let entrySize = VirtqDescriptor.wireSize
        guard length > 0, length % entrySize == 0,
              let table = memory.pointer(guestAddress: indirect.address, length: length)
        else { throw .badIndirectTable(address: indirect.address, length: indirect.length) }
        let count = length / entrySize
        // `next` is 16 bits: a chain longer than 65536 descriptors revisits
        // some, whatever the table's size. Without this bound a loop in a
        // huge table (up to 4 GiB of guest memory) would be followed as many
        // times as the table has entries, each adding a segment to `buffers`,
        // whose arrays keep that capacity.
        let longest = min(count, Self.longestIndirectChain)
        var index = 0
        var visited = 0
        while true {
            visited += 1
            guard visited <= longest else { throw .tooLong }
            let descriptor = UnsafeRawPointer(table).loadUnaligned(fromByteOffset: entrySize * index, as: VirtqDescriptor.self)
            guard !descriptor.isIndirect else { throw .nestedIndirect }
            try buffers.add(descriptor, memory: memory)
            guard descriptor.hasNext else { return }
            guard Int(descriptor.next) < count else { throw .nextOutOfRange(descriptor.next) }
            index = Int(descriptor.next)
        }
    }
}
