import Glibc

/// A position in a list of byte segments (iovecs), and the one place that
/// walks them: both request and reply views are built on it. Callers check
/// lengths against what remains before moving the cursor.
struct SegmentCursor {
    let segments: UnsafeBufferPointer<iovec>
    private var index = 0
    private var offset = 0

    init(segments: UnsafeBufferPointer<iovec>) {
        self.segments = segments
        skipExhaustedSegments()
    }

    /// The sum of all segment lengths.
    static func totalLength(of segments: UnsafeBufferPointer<iovec>) -> Int {
        var total = 0
        for segment in segments { total += segment.iov_len }
        return total
    }

    /// Calls `body` with each contiguous piece of the next `count` bytes
    /// (pointer, length, offset within `count`), then moves past them.
    mutating func consume(_ count: Int, _ body: (UnsafeMutableRawPointer, Int, Int) -> Void) {
        var done = 0
        while done < count {
            let segment = segments[index]
            let take = min(segment.iov_len - offset, count - done)
            body(segment.iov_base! + offset, take, done)
            done += take
            offset += take
            skipExhaustedSegments()
        }
    }

    /// Moves past `count` bytes.
    mutating func advance(_ count: Int) {
        if contiguous(count) != nil {
            advanceWithinSegment(count)
        } else {
            consume(count) { _, _, _ in }
        }
    }

    /// The next `count` bytes when they lie within the current segment (a
    /// request's records almost always do), else nil. Callers have checked
    /// that `count` bytes remain.
    @inline(__always)
    func contiguous(_ count: Int) -> UnsafeMutableRawPointer? {
        guard index < segments.count else { return nil }
        let segment = segments[index]
        guard segment.iov_len - offset >= count else { return nil }
        return segment.iov_base! + offset
    }

    /// Moves past `count` bytes that `contiguous(count)` returned.
    @inline(__always)
    mutating func advanceWithinSegment(_ count: Int) {
        offset += count
        skipExhaustedSegments()
    }

    /// Calls `body` with iovecs covering the next `count` bytes, built in
    /// stack storage (no allocation per request). Does not move the cursor.
    func withIOVecs<R, E: Error>(count: Int, _ body: (UnsafeBufferPointer<iovec>) throws(E) -> R) throws(E) -> R {
        var copy = self
        var pieces = 0
        copy.consume(count) { _, _, _ in pieces += 1 }
        let result: Result<R, E> = withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(pieces, 1)) { list in
            var walker = self, used = 0
            walker.consume(count) { base, length, _ in
                list[used] = iovec(iov_base: base, iov_len: length)
                used += 1
            }
            do throws(E) { return .success(try body(UnsafeBufferPointer(rebasing: list[0..<used]))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Zero-length segments and fully consumed ones are stepped over, so
    /// `segments[index]` always has bytes left while any remain.
    private mutating func skipExhaustedSegments() {
        while index < segments.count && offset == segments[index].iov_len {
            index += 1
            offset = 0
        }
    }
}
