import Glibc
import SwiftFSProtocol

/// A bounds-checked cursor over the device-readable part of a request: one
/// or more byte segments (guest buffers of a descriptor chain, or the single
/// buffer a /dev/fuse read filled). Records that straddle segments are
/// gathered; bulk data is handed out as iovecs for pwritev, never copied.
///
/// The segment list belongs to the transport and must outlive the reader.
public struct ScatterReader {
    private var cursor: SegmentCursor
    /// Bytes left to read.
    public private(set) var remaining: Int

    public init(segments: UnsafeBufferPointer<iovec>) {
        self.cursor = SegmentCursor(segments: segments)
        self.remaining = SegmentCursor.totalLength(of: segments)
    }

    /// Reads one record, or returns nil (consuming nothing) if too few bytes remain.
    public mutating func read<T: WireRecord>(_: T.Type = T.self) -> T? {
        guard remaining >= T.wireSize else { return nil }
        if let bytes = cursor.contiguous(T.wireSize) {
            // One load instead of a gathering copy: the record does not straddle segments.
            let value = UnsafeRawPointer(bytes).loadUnaligned(as: T.self)
            cursor.advanceWithinSegment(T.wireSize)
            remaining -= T.wireSize
            return value
        }
        var value = T()
        withUnsafeMutableBytes(of: &value) { copyOut(into: $0) }
        return value
    }

    /// Copies the next `destination.count` bytes out; returns false (consuming nothing) if too few remain.
    @discardableResult
    public mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard remaining >= destination.count else { return false }
        copyOut(into: destination)
        return true
    }

    /// Skips `count` bytes; false (consuming nothing) if too few remain.
    @discardableResult
    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        cursor.advance(count)
        remaining -= count
        return true
    }

    /// Calls `body` with iovecs covering the next `count` bytes (for pwritev)
    /// and consumes them. Returns nil if fewer than `count` bytes remain.
    public mutating func withIOVecs<R, E: Error>(count: Int,
                                                 _ body: (UnsafeBufferPointer<iovec>) throws(E) -> R) throws(E) -> R? {
        guard count >= 0, remaining >= count else { return nil }
        let value = try cursor.withIOVecs(count: count, body)
        cursor.advance(count)
        remaining -= count
        return value
    }

    /// Stops the reader `count` bytes from here (e.g. at fuse_in_header.len):
    /// bytes beyond are never read. No effect if fewer remain.
    public mutating func limit(to count: Int) {
        if count >= 0 && count < remaining { remaining = count }
    }

    private mutating func copyOut(into destination: UnsafeMutableRawBufferPointer) {
        cursor.consume(destination.count) { base, length, at in
            (destination.baseAddress! + at).copyMemory(from: base, byteCount: length)
        }
        remaining -= destination.count
    }
}
