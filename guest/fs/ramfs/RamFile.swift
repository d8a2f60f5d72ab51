// A regular file in RAM, stored as fixed-size chunks that each hold only the
// bytes written so far: small files stay small, and a hole (a chunk never
// written, or the part of a chunk past its written bytes) reads as zeros
// without using memory.

final class RamFile: RamNode {
    static let chunkSize = 64 * 1024
    /// Larger sizes fail with EFBIG rather than exhausting the heap by accident.
    static let maxSize = 1 << 32

    private var chunks: [[UInt8]] = []
    private(set) var length = 0

    override var kind: FileKind { .regular }
    override var size: Int { length }
    override var allocatedBytes: Int {
        var total = 0
        for chunk in chunks { total += chunk.count }
        return total
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        guard offset < length, buffer.count > 0 else { return 0 }
        let total = min(buffer.count, length - offset)
        var done = 0
        while done < total {
            let position = offset + done
            let chunkIndex = position / RamFile.chunkSize
            let within = position % RamFile.chunkSize
            let step = min(total - done, RamFile.chunkSize - within)
            let destination = buffer.baseAddress! + done
            let stored = chunkIndex < chunks.count ? chunks[chunkIndex].count : 0
            let fromData = max(0, min(step, stored - within))
            if fromData > 0 {
                chunks[chunkIndex].withUnsafeBytes { source in
                    destination.copyMemory(from: source.baseAddress! + within, byteCount: fromData)
                }
            }
            if fromData < step {
                (destination + fromData).initializeMemory(as: UInt8.self, repeating: 0, count: step - fromData)
            }
            done += step
        }
        return total
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard bytes.count > 0 else { return 0 }
        guard offset >= 0, offset + bytes.count <= RamFile.maxSize else { throw .EFBIG }
        var done = 0
        while done < bytes.count {
            let position = offset + done
            let chunkIndex = position / RamFile.chunkSize
            let within = position % RamFile.chunkSize
            let step = min(bytes.count - done, RamFile.chunkSize - within)
            while chunks.count <= chunkIndex { chunks.append([]) }
            let needed = within + step
            if chunks[chunkIndex].count < needed {
                growChunk(chunkIndex, to: needed)
            }
            chunks[chunkIndex].withUnsafeMutableBytes { destination in
                (destination.baseAddress! + within).copyMemory(from: bytes.baseAddress! + done, byteCount: step)
            }
            done += step
        }
        length = max(length, offset + bytes.count)
        touchModified()
        return bytes.count
    }

    func truncate(to newSize: Int) throws(Errno) {
        guard newSize >= 0 else { throw .EINVAL }
        guard newSize <= RamFile.maxSize else { throw .EFBIG }
        if newSize < length {
            let keepChunks = (newSize + RamFile.chunkSize - 1) / RamFile.chunkSize
            if chunks.count > keepChunks { chunks.removeLast(chunks.count - keepChunks) }
            let tail = newSize % RamFile.chunkSize
            if tail != 0, keepChunks > 0, chunks[keepChunks - 1].count > tail {
                chunks[keepChunks - 1].removeLast(chunks[keepChunks - 1].count - tail)
            }
        }
        // Growing needs no storage: the new range is a hole.
        length = newSize
        touchModified()
    }

    /// SEEK_DATA/SEEK_HOLE over the chunk map: an empty chunk is a hole.
    func seek(_ origin: SeekOrigin, from offset: Int) throws(Errno) -> Int {
        guard offset >= 0, offset < length else { throw .ENXIO }
        var position = offset
        while position < length {
            let chunkIndex = position / RamFile.chunkSize
            let within = position % RamFile.chunkSize
            let stored = chunkIndex < chunks.count ? chunks[chunkIndex].count : 0
            let isData = within < stored
            if origin == .data && isData { return position }
            if origin == .hole && !isData { return position }
            position = isData ? chunkIndex * RamFile.chunkSize + stored : (chunkIndex + 1) * RamFile.chunkSize
        }
        if origin == .hole { return length }
        throw .ENXIO
    }

    private func growChunk(_ index: Int, to count: Int) {
        let missing = count - chunks[index].count
        if chunks[index].capacity < count {
            // Grow geometrically so appends in small blocks stay linear.
            chunks[index].reserveCapacity(min(RamFile.chunkSize, max(count, chunks[index].capacity * 2)))
        }
        chunks[index].append(contentsOf: repeatElement(0, count: missing))
    }
}
