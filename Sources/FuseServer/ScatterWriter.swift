import Glibc
import SwiftFSProtocol

/// A bounds-checked cursor over the device-writable part of a request: the
/// guest buffers a reply goes into (or one buffer that is then written to
/// /dev/fuse). Bulk data is produced straight into the segments through
/// iovecs (preadv), never through an intermediate copy.
///
/// The segment list belongs to the transport and must outlive the writer.
public struct ScatterWriter {
    @usableFromInline let segments: UnsafeBufferPointer<iovec>
    @usableFromInline var segmentIndex = 0
    @usableFromInline var segmentOffset = 0
    /// Total capacity and bytes written so far.
    public let capacity: Int
    public private(set) var written = 0

    public init(segments: UnsafeBufferPointer<iovec>) {
        self.segments = segments
        var total = 0
        for segment in segments { total += segment.iov_len }
        self.capacity = total
        skipEmptySegments()
    }

    public var remaining: Int { capacity - written }

    /// Appends a record; false (writing nothing) if it does not fit.
    @discardableResult
    public mutating func write<T: WireRecord>(_ value: T) -> Bool {
        guard remaining >= T.wireSize else { return false }
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
        var left = count
        while left > 0 {
            let segment = segments[segmentIndex]
            let take = min(segment.iov_len - segmentOffset, left)
            (segment.iov_base! + segmentOffset).initializeMemory(as: UInt8.self, repeating: 0, count: take)
            left -= take
            consume(take)
        }
        return true
    }

    /// Overwrites bytes already covered by the writer, at an absolute
    /// position (the reply header, whose length is known last).
    @discardableResult
    public func patch<T: WireRecord>(_ value: T, at position: Int) -> Bool {
        guard position >= 0, position + T.wireSize <= capacity else { return false }
        var copy = value
        return withUnsafeBytes(of: &copy) { source in
            var index = 0, base = 0
            while base + segments[index].iov_len <= position { base += segments[index].iov_len; index += 1 }
            var offset = position - base, copied = 0
            while copied < source.count {
                let segment = segments[index]
                let take = min(segment.iov_len - offset, source.count - copied)
                (segment.iov_base! + offset).copyMemory(from: source.baseAddress! + copied, byteCount: take)
                copied += take; index += 1; offset = 0
            }
            return true
        }
    }

    /// Calls `body` with iovecs covering up to `count` bytes of free space
    /// (for preadv); `body` returns how many bytes it filled, and the writer
    /// advances by that many. `scratch` is the caller's reusable iovec storage.
    public mutating func withIOVecs<E: Error>(count: Int, scratch: inout [iovec],
                                              _ body: (UnsafeBufferPointer<iovec>) throws(E) -> Int) throws(E) -> Int {
        let wanted = max(0, min(count, remaining))
        scratch.removeAll(keepingCapacity: true)
        var index = segmentIndex, offset = segmentOffset, left = wanted
        while left > 0 {
            let segment = segments[index]
            let take = min(segment.iov_len - offset, left)
            if take > 0 { scratch.append(iovec(iov_base: segment.iov_base! + offset, iov_len: take)) }
            left -= take
            index += 1; offset = 0
        }
        let filled = try scratch.withUnsafeBufferPointer { (buffers) throws(E) -> Int in try body(buffers) }
        let accepted = max(0, min(filled, wanted))
        var left2 = accepted
        while left2 > 0 {
            let take = min(segments[segmentIndex].iov_len - segmentOffset, left2)
            left2 -= take
            consume(take)
        }
        return accepted
    }

    /// Like `withIOVecs(count:scratch:_:)`, with the iovec list in temporary
    /// (stack) storage: no allocation per request.
    public mutating func withIOVecs<E: Error>(count: Int,
                                              _ body: (UnsafeBufferPointer<iovec>) throws(E) -> Int) throws(E) -> Int {
        let wanted = max(0, min(count, remaining))
        var needed = 0
        do {
            var index = segmentIndex, offset = segmentOffset, left = wanted
            while left > 0 {
                let take = min(segments[index].iov_len - offset, left)
                if take > 0 { needed += 1 }
                left -= take
                index += 1; offset = 0
            }
        }
        let result: Result<Int, E> = withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(needed, 1)) { list in
            var index = segmentIndex, offset = segmentOffset, left = wanted, used = 0
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
        let accepted = max(0, min(try result.get(), wanted))
        var left = accepted
        while left > 0 {
            let take = min(segments[segmentIndex].iov_len - segmentOffset, left)
            left -= take
            consume(take)
        }
        return accepted
    }

    private mutating func copyIn(from source: UnsafeRawBufferPointer) {
        var copied = 0
        while copied < source.count {
            let segment = segments[segmentIndex]
            let take = min(segment.iov_len - segmentOffset, source.count - copied)
            (segment.iov_base! + segmentOffset).copyMemory(from: source.baseAddress! + copied, byteCount: take)
            copied += take
            consume(take)
        }
    }

    private mutating func consume(_ count: Int) {
        segmentOffset += count
        written += count
        skipEmptySegments()
    }

    private mutating func skipEmptySegments() {
        while segmentIndex < segments.count && segmentOffset == segments[segmentIndex].iov_len {
            segmentIndex += 1
            segmentOffset = 0
        }
    }
}
