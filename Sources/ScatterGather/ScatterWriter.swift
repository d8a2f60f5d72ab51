import Glibc
import SwiftFSProtocol

/// A bounds-checked cursor over the device-writable part of a request: the
/// guest buffers a reply goes into (or one buffer that is then written to
/// /dev/fuse). Bulk data is produced straight into the segments through
/// iovecs (preadv), never through an intermediate copy.
///
/// The segment list belongs to the transport and must outlive the writer.
public struct ScatterWriter {
    private var cursor: SegmentCursor
    /// Total capacity and bytes written so far.
    public let capacity: Int
    public private(set) var written = 0

    public init(segments: UnsafeBufferPointer<iovec>) {
        self.cursor = SegmentCursor(segments: segments)
        self.capacity = SegmentCursor.totalLength(of: segments)
    }

    public var remaining: Int { capacity - written }

    /// Appends a record; false (writing nothing) if it does not fit.
    @discardableResult
    public mutating func write<T: WireRecord>(_ value: T) -> Bool {
        guard remaining >= T.wireSize else { return false }
        if let bytes = cursor.contiguous(T.wireSize) {
            // One store instead of a scattering copy: the record does not straddle segments.
            bytes.storeBytes(of: value, as: T.self)
            cursor.advanceWithinSegment(T.wireSize)
            written += T.wireSize
            return true
        }
        var copy = value
        withUnsafeBytes(of: &copy) { copyIn(from: $0) }
        return true
    }

    /// Appends raw bytes; false (writing nothing) if they do not fit.
    @discardableResult
    public mutating func write(bytes: UnsafeRawBufferPointer) -> Bool {
        guard remaining >= bytes.count else { return false }
        copyIn(from: bytes)
        return true
    }

    /// Appends `count` zero bytes; false if they do not fit.
    @discardableResult
    public mutating func writeZeros(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        cursor.consume(count) { base, length, _ in base.initializeMemory(as: UInt8.self, repeating: 0, count: length) }
        written += count
        return true
    }

    /// Overwrites bytes already covered by the writer, at an absolute
    /// position (the reply header, whose length is known last).
    @discardableResult
    public func patch<T: WireRecord>(_ value: T, at position: Int) -> Bool {
        guard position >= 0, position + T.wireSize <= capacity else { return false }
        // The reply header, at 0 in the first segment: stored without a cursor.
        if let first = cursor.segments.first, let base = first.iov_base, position + T.wireSize <= first.iov_len {
            (base + position).storeBytes(of: value, as: T.self)
            return true
        }
        var copy = value
        var target = SegmentCursor(segments: cursor.segments)
        target.advance(position)
        if let bytes = target.contiguous(T.wireSize) {
            bytes.storeBytes(of: value, as: T.self)
            return true
        }
        withUnsafeBytes(of: &copy) { source in
            target.consume(source.count) { base, length, at in
                base.copyMemory(from: source.baseAddress! + at, byteCount: length)
            }
        }
        return true
    }

    /// Calls `body` with iovecs covering up to `count` bytes of free space
    /// (for preadv), built in stack storage; `body` returns how many bytes it
    /// filled, and the writer advances by that many.
    public mutating func withIOVecs<E: Error>(count: Int,
                                              _ body: (UnsafeBufferPointer<iovec>) throws(E) -> Int) throws(E) -> Int {
        let wanted = max(0, min(count, remaining))
        let accepted = max(0, min(try cursor.withIOVecs(count: wanted, body), wanted))
        cursor.advance(accepted)
        written += accepted
        return accepted
    }

    private mutating func copyIn(from source: UnsafeRawBufferPointer) {
        cursor.consume(source.count) { base, length, at in
            base.copyMemory(from: source.baseAddress! + at, byteCount: length)
        }
        written += source.count
    }
}
