// A regular file in RAM, stored as fixed-size chunks that each hold only the
// bytes written so far: small files stay small, and a hole (a chunk never
// written, or the part of a chunk past its written bytes) reads as zeros
// without using memory. Chunks are raw allocations moved with memcpy/memset:
// per-element Array operations are far too slow under TCG.

final class RamFile: RamNode {
    static let chunkSize = 64 * 1024
    /// Larger sizes fail with EFBIG rather than exhausting the heap by accident.
    static let maxSize = 1 << 32
    private static let smallestAllocation = 256

    private struct Chunk {
        var storage: UnsafeMutableRawPointer? = nil
        var capacity = 0
        /// Bytes stored; the rest of the chunk reads as zeros.
        var count = 0
    }

    private var chunks: [Chunk] = []
    private(set) var length = 0

    deinit {
        for chunk in chunks { chunk.storage?.deallocate() }
    }

    override var kind: FileKind { .regular }
    override var size: Int { length }
    override var allocatedBytes: Int {
        var total = 0
        for chunk in chunks { total += chunk.capacity }
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
            var fromData = 0
            if chunkIndex < chunks.count, let storage = chunks[chunkIndex].storage {
                fromData = max(0, min(step, chunks[chunkIndex].count - within))
                if fromData > 0 { destination.copyMemory(from: storage + within, byteCount: fromData) }
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
        guard offset >= 0, offset <= RamFile.maxSize - bytes.count else { throw .EFBIG }   // no overflow near Int.max
        var done = 0
        while done < bytes.count {
            let position = offset + done
            let chunkIndex = position / RamFile.chunkSize
            let within = position % RamFile.chunkSize
            let step = min(bytes.count - done, RamFile.chunkSize - within)
            if chunks.count <= chunkIndex {
                chunks.append(contentsOf: repeatElement(Chunk(), count: chunkIndex + 1 - chunks.count))
            }
            let storage = reserve(chunkIndex, upTo: within + step)
            storage.advanced(by: within).copyMemory(from: bytes.baseAddress! + done, byteCount: step)
            done += step
        }
        length = max(length, offset + bytes.count)
        touchModified()
        return bytes.count
    }

    /// Makes chunk `index` hold at least `needed` bytes (zero-filling any gap); returns its storage.
    private func reserve(_ index: Int, upTo needed: Int) -> UnsafeMutableRawPointer {
        var chunk = chunks[index]
        if chunk.capacity < needed {
            // Grow geometrically so appends in small blocks stay linear.
            let capacity = min(RamFile.chunkSize, max(needed, chunk.capacity * 2, RamFile.smallestAllocation))
            let storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            if let old = chunk.storage {
                storage.copyMemory(from: old, byteCount: chunk.count)
                old.deallocate()
            }
            chunk.storage = storage
            chunk.capacity = capacity
        }
        if chunk.count < needed {
            (chunk.storage! + chunk.count).initializeMemory(as: UInt8.self, repeating: 0, count: needed - chunk.count)
            chunk.count = needed
        }
        chunks[index] = chunk
        return chunk.storage!
    }

    func truncate(to newSize: Int) throws(Errno) {
        guard newSize >= 0 else { throw .EINVAL }
        guard newSize <= RamFile.maxSize else { throw .EFBIG }
        if newSize < length {
            let keepChunks = (newSize + RamFile.chunkSize - 1) / RamFile.chunkSize
            while chunks.count > keepChunks {
                chunks.removeLast().storage?.deallocate()
            }
            let tail = newSize % RamFile.chunkSize
            // A sparse file may have fewer chunks than keepChunks: nothing stored there to cut.
            if tail != 0, keepChunks > 0, keepChunks <= chunks.count, chunks[keepChunks - 1].count > tail {
                chunks[keepChunks - 1].count = tail   // bytes past `count` read as zeros
            }
        }
        // Growing needs no storage: the new range is a hole.
        length = newSize
        touchModified()
    }

    /// SEEK_DATA/SEEK_HOLE over the chunk map: unstored bytes are a hole.
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
}
