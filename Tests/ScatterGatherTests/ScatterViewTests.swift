import Glibc
import ScatterGather
import SwiftFSProtocol
import Testing

/// The request/reply views over segment lists: records straddle segments,
/// empty segments are skipped, nothing is read or written out of bounds.
@Suite struct ScatterViewTests {
    /// Runs `body` with segments of the given sizes carved out of one zeroed buffer.
    func withSegments<R>(_ sizes: [Int], _ body: (UnsafeMutableRawBufferPointer, UnsafeBufferPointer<iovec>) -> R) -> R {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(sizes.reduce(0, +), 1), alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        defer { storage.deallocate() }
        var list: [iovec] = []
        var offset = 0
        for size in sizes {
            list.append(iovec(iov_base: storage.baseAddress! + offset, iov_len: size))
            offset += size
        }
        return list.withUnsafeBufferPointer { body(storage, $0) }
    }

    @Test func recordsStraddleSegmentsAndSkipEmptyOnes() {
        withSegments([3, 0, 5, 0, 0, 40]) { storage, segments in
            for i in 0..<storage.count { storage[i] = UInt8(i) }
            var reader = ScatterReader(segments: segments)
            #expect(reader.remaining == 48)
            let first = reader.read(FuseForgetIn.self)
            #expect(first?.nlookup == 0x0706_0504_0302_0100)
            let skipped = reader.skip(32)
            #expect(skipped)
            let second = reader.read(FuseForgetIn.self)
            #expect(second?.nlookup == 0x2f2e_2d2c_2b2a_2928)
            #expect(reader.remaining == 0)
            let third = reader.read(FuseForgetIn.self)
            #expect(third == nil)
        }
    }

    @Test func shortReadsConsumeNothing() {
        withSegments([4, 4]) { _, segments in
            var reader = ScatterReader(segments: segments)
            let header = reader.read(FuseInHeader.self)
            let skipped = reader.skip(9)
            #expect(header == nil && !skipped)
            #expect(reader.remaining == 8)
            reader.limit(to: 5)
            let record = reader.read(FuseForgetIn.self)
            #expect(record == nil)
            let pieces = reader.withIOVecs(count: 5) { $0.count }
            #expect(pieces == 2)
            #expect(reader.remaining == 0)
        }
    }

    @Test func writerPatchesAHeaderAcrossSegments() {
        withSegments([10, 30]) { storage, segments in
            var writer = ScatterWriter(segments: segments)
            let zeroed = writer.writeZeros(FuseOutHeader.wireSize)
            #expect(zeroed)
            var header = FuseOutHeader()
            header.len = 40; header.error = -2; header.unique = 0x1122_3344_5566_7788
            #expect(writer.patch(header, at: 0))
            #expect(writer.patch(header, at: 30) == false)
            var back = ByteReader(UnsafeRawBufferPointer(storage))
            let read = back.read(FuseOutHeader.self)
            #expect(read?.len == 40 && read?.error == -2 && read?.unique == 0x1122_3344_5566_7788)
        }
    }

    @Test func iovecFillAdvancesOnlyByWhatWasFilled() {
        withSegments([8, 0, 8, 8]) { _, segments in
            var writer = ScatterWriter(segments: segments)
            let filled = writer.withIOVecs(count: 100) { (list: UnsafeBufferPointer<iovec>) -> Int in
                #expect(list.count == 3)
                #expect(list.reduce(0) { $0 + $1.iov_len } == 24)
                return 10
            }
            #expect(filled == 10)
            #expect(writer.written == 10 && writer.remaining == 14)
            let empty = writer.write(bytes: UnsafeRawBufferPointer(start: nil, count: 0))
            var big = [UInt8](repeating: 1, count: 15)
            let tooBig = big.withUnsafeBytes { writer.write(bytes: $0) }
            big.removeLast()
            let fits = big.withUnsafeBytes { writer.write(bytes: $0) }
            #expect(empty && !tooBig && fits)
            #expect(writer.remaining == 0)
        }
    }
}
