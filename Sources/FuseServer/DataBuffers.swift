import Glibc
import ScatterGather
import SwiftFSProtocol

/// Where a READ's data goes: the transport's reply buffers (guest memory for
/// virtio-fs), at most `capacity` bytes. The filesystem fills it with preadv
/// on the iovecs `fill` hands out; nothing is copied through Swift arrays.
public struct ReadDestination {
    @usableFromInline var writer: ScatterWriter
    /// The most bytes the READ may return.
    public let capacity: Int
    public private(set) var filled = 0

    init(writer: ScatterWriter, capacity: Int) {
        self.writer = writer
        self.capacity = max(0, min(capacity, writer.remaining))
    }

    /// Calls `body` with iovecs over the unfilled space; `body` returns how many
    /// bytes it produced (e.g. preadv's result), which are then kept.
    public mutating func fill(_ body: (UnsafeBufferPointer<iovec>) throws(Errno) -> Int) throws(Errno) -> Int {
        let n = try writer.withIOVecs(count: capacity - filled, body)
        filled += n
        return n
    }
}

/// The data of a WRITE in the transport's request buffers, `count` bytes. The
/// filesystem drains it with pwritev on the iovecs `drain` hands out.
public struct WriteSource {
    @usableFromInline var reader: ScatterReader
    /// Bytes the WRITE carries.
    public let count: Int

    init(reader: ScatterReader, count: Int) {
        self.reader = reader
        self.count = count
    }

    /// Calls `body` with iovecs over all `count` bytes (e.g. for pwritev).
    public func drain<R>(_ body: (UnsafeBufferPointer<iovec>) throws(Errno) -> R) throws(Errno) -> R {
        var copy = reader
        guard let result = try copy.withIOVecs(count: count, body) else { throw Errno.EINVAL }
        return result
    }
}
