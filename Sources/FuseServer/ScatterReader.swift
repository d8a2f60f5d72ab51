import Glibc
import SwiftFSProtocol

/// A bounds-checked cursor over the device-readable part of a request: one
/// or more byte segments (guest buffers of a descriptor chain, or the single
/// buffer a /dev/fuse read filled). Records that straddle segments are
/// gathered; bulk data is handed out as iovecs for pwritev, never copied.
///
/// The segment list belongs to the transport and must outlive the reader.
public struct ScatterReader {
    @usableFromInline let segments: UnsafeBufferPointer<iovec>
    @usableFromInline var segmentIndex = 0
    @usableFromInline var segmentOffset = 0
    /// Bytes left to read.
    public private(set) var remaining: Int

    public init(segments: UnsafeBufferPointer<iovec>) {
        self.segments = segments
        var total = 0
        for segment in segments { total += segment.iov_len }
        self.remaining = total
    }

    /// Reads one record, or returns nil (consuming nothing) if too few bytes remain.
    public mutating func read<T: WireRecord>(_: T.Type = T.self) -> T? {
        guard remaining >= T.wireSize else { return nil }
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
        advance(count)
        return true
    }

    /// Calls `body` with iovecs covering the next `count` bytes (for pwritev)
    /// and consumes them. `scratch` is the caller's reusable iovec storage.
    /// Returns nil if fewer than `count` bytes remain.
    public mutating func withIOVecs<R>(count: Int, scratch: inout [iovec],
                                       _ body: (UnsafeBufferPointer<iovec>) throws -> R) rethrows -> R? {
        guard count >= 0, remaining >= count else { return nil }
        scratch.removeAll(keepingCapacity: true)
        var index = segmentIndex, offset = segmentOffset, left = count
        while left > 0 {
            let segment = segments[index]
            let take = min(segment.iov_len - offset, left)
            if take > 0 {
                scratch.append(iovec(iov_base: segment.iov_base! + offset, iov_len: take))
            }
            left -= take
            index += 1; offset = 0
        }
        let result = try scratch.withUnsafeBufferPointer { try body($0) }
        advance(count)
        return result
    }

    /// Like `withIOVecs(count:scratch:_:)`, with the iovec list in temporary
    /// (stack) storage: no allocation per request.
    public mutating func withIOVecs<R, E: Error>(count: Int,
                                                 _ body: (UnsafeBufferPointer<iovec>) throws(E) -> R) throws(E) -> R? {
        guard count >= 0, remaining >= count else { return nil }
        let needed = segmentsCovering(count)
        let result: Result<R, E> = withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(needed, 1)) { list in
            var index = segmentIndex, offset = segmentOffset, left = count, used = 0
            while left > 0 {
                let segment = segments[index]
                let take = min(segment.iov_len - offset, left)
                if take > 0 {
                    list[used] = iovec(iov_base: segment.iov_base! + offset, iov_len: take)
                    used += 1
                }
                left -= take
                index += 1; offset = 0
            }
            do throws(E) { return .success(try body(UnsafeBufferPointer(rebasing: list[0..<used]))) } catch { return .failure(error) }
        }
        let value = try result.get()
        advance(count)
        return value
    }

    /// Stops the reader `count` bytes from here (e.g. at fuse_in_header.len):
    /// bytes beyond are never read. No effect if fewer remain.
    public mutating func limit(to count: Int) {
        if count >= 0 && count < remaining { remaining = count }
    }

    /// How many segments the next `count` bytes touch.
    private func segmentsCovering(_ count: Int) -> Int {
        var index = segmentIndex, offset = segmentOffset, left = count, n = 0
        while left > 0 && index < segments.count {
            let take = min(segments[index].iov_len - offset, left)
            if take > 0 { n += 1 }
            left -= take
            index += 1; offset = 0
        }
        return n
    }

    private mutating func copyOut(into destination: UnsafeMutableRawBufferPointer) {
        var copied = 0
        while copied < destination.count {
            let segment = segments[segmentIndex]
            let take = min(segment.iov_len - segmentOffset, destination.count - copied)
            if take > 0 {
                (destination.baseAddress! + copied).copyMemory(from: segment.iov_base! + segmentOffset, byteCount: take)
            }
            copied += take
            consume(take)
        }
    }

    private mutating func advance(_ count: Int) {
        var left = count
        while left > 0 {
            let take = min(segments[segmentIndex].iov_len - segmentOffset, left)
            left -= take
            consume(take)
        }
    }

    /// Moves the cursor within/past the current segment.
    private mutating func consume(_ count: Int) {
        segmentOffset += count
        remaining -= count
        while segmentIndex < segments.count && segmentOffset == segments[segmentIndex].iov_len {
            segmentIndex += 1
            segmentOffset = 0
        }
    }
}
