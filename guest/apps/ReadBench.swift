// app=readbench: read throughput of one file, pass 1 cold and the rest
// re-reads, so the same command line with dax=on and dax=off shows what the
// DAX window saves. Each pass opens the file, reads it in `bs` blocks (seq: in
// order; rand: as many blocks at deterministic pseudo-random block offsets,
// the same in every pass) and closes it. fuse_reads counts the FUSE_READ
// requests the pass sent; memcpy_mibps copies the same blocks out of a
// guest-memory buffer of the file's size: the ceiling for any read path.
//
//   app=readbench file=PATH [mode=seq|rand] [bs=1048576] [passes=3] [size=BYTES] [seed=42]
//   size: create the file with that many bytes (TestPattern) if it does not exist.

func runReadBench(_ arguments: ApplicationArguments) -> Int32 {
    let path = arguments.string("file", default: "")
    let mode = arguments.string("mode", default: "seq")
    let blockSize = arguments.integer("bs", default: 1 << 20)
    let passes = arguments.integer("passes", default: 3)
    let createSize = arguments.integer("size", default: 0)
    let seed = UInt64(truncatingIfNeeded: arguments.integer("seed", default: 42))
    guard !path.isEmpty, mode == "seq" || mode == "rand", blockSize > 0, passes >= 1, createSize >= 0 else {
        print("readbench: usage: app=readbench file=PATH mode=seq|rand bs=BYTES passes=N [size=BYTES]")
        return 2
    }
    let fuse = fuseFileSystem(holding: path)
    let dax = fuse?.daxActive == true ? "on" : "off"

    let fileSize: Int
    do {
        if createSize > 0, (try? Posix.stat(path)) == nil { try createPatternFile(path, size: createSize) }
        fileSize = try Posix.stat(path).size
    } catch {
        print("readbench: \(path): \(error.name)")
        return 1
    }
    guard fileSize > 0 else {
        print("readbench: \(path) is empty")
        return 1
    }
    let offsets = blockOffsets(mode: mode, fileSize: fileSize, blockSize: blockSize, seed: seed)
    var expectedBytes = 0
    for offset in offsets { expectedBytes += min(blockSize, fileSize - offset) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
    defer { buffer.deallocate() }

    var first = 0.0
    var rereadBytes = 0
    var rereadNanoseconds: UInt64 = 0
    var rereadFuseReads: UInt64 = 0
    for pass in 1...passes {
        let readsBefore = fuse?.session.requestCount(.read) ?? 0
        let start = monotonicNanoseconds()
        let bytes: Int
        do {
            bytes = try readBlocks(path, offsets: offsets, into: buffer)
        } catch {
            print("readbench: pass \(pass): \(error.name)")
            return 1
        }
        let elapsed = monotonicNanoseconds() - start
        let fuseReads = (fuse?.session.requestCount(.read) ?? 0) - readsBefore
        guard bytes == expectedBytes else {
            print("readbench: pass \(pass) read \(bytes) bytes, expected \(expectedBytes)")
            return 1
        }
        let rate = mebibytesPerSecond(bytes, nanoseconds: elapsed)
        print("RESULT readbench file=\(path) mode=\(mode) bs=\(blockSize) dax=\(dax) pass=\(pass) mibps=\(formatFixed(rate)) fuse_reads=\(fuseReads)")
        if pass == 1 {
            first = rate
        } else {
            rereadBytes += bytes
            rereadNanoseconds += elapsed
            rereadFuseReads += fuseReads
        }
    }
    let memcpyRate = memcpyCeiling(fileSize: fileSize, offsets: offsets, into: buffer)
    let reread = passes > 1 ? formatFixed(mebibytesPerSecond(rereadBytes, nanoseconds: rereadNanoseconds)) : "none"
    print("RESULT readbench summary dax=\(dax) first_mibps=\(formatFixed(first)) reread_mibps=\(reread) reread_fuse_reads=\(rereadFuseReads) memcpy_mibps=\(formatFixed(memcpyRate)) file=\(path) mode=\(mode) bs=\(blockSize)")
    if let fuse = fuse, let window = fuse.dax {
        print("RESULT readbench dax_window mappings=\(window.mappingsSetUp) evicted=\(window.rangesEvicted) refused=\(window.mappingsRefused)")
    }
    return 0
}

/// The FUSE filesystem mounted at /host if `path` lies under it (for its request counters).
func fuseFileSystem(holding path: String) -> FuseFileSystem? {
    guard path.hasPrefix("/host/") else { return nil }
    return systemVFS.fileSystem(mountedAt: "/host") as? FuseFileSystem
}

/// seq: every block in order; rand: as many blocks, at seeded pseudo-random block offsets.
private func blockOffsets(mode: String, fileSize: Int, blockSize: Int, seed: UInt64) -> [Int] {
    let blocks = (fileSize + blockSize - 1) / blockSize
    var offsets: [Int] = []
    offsets.reserveCapacity(blocks)
    if mode == "seq" {
        for block in 0..<blocks { offsets.append(block * blockSize) }
    } else {
        var random = SeededRandom(seed: seed)
        for _ in 0..<blocks { offsets.append(random.below(blocks) * blockSize) }
    }
    return offsets
}

/// One pass: open, pread every block, close. Returns the bytes read.
private func readBlocks(_ path: String, offsets: [Int], into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
    let descriptor = try Posix.open(path, .readOnly)
    defer { try? Posix.close(descriptor) }
    var total = 0
    for offset in offsets { total += try Posix.pread(descriptor, into: buffer, at: offset) }
    return total
}

/// The same blocks copied out of a guest buffer as large as the file.
private func memcpyCeiling(fileSize: Int, offsets: [Int], into buffer: UnsafeMutableRawBufferPointer) -> Double {
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: fileSize, alignment: 4096)
    defer { source.deallocate() }
    source.initializeMemory(as: UInt8.self, repeating: 0x5A)
    var bytes = 0
    let start = monotonicNanoseconds()
    for offset in offsets {
        let count = min(buffer.count, fileSize - offset)
        buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        bytes += count
    }
    return mebibytesPerSecond(bytes, nanoseconds: monotonicNanoseconds() - start)
}

private func createPatternFile(_ path: String, size: Int) throws(Errno) {
    let descriptor = try Posix.open(path, [.create, .exclusive, .writeOnly])
    var failure: Errno? = nil
    var offset = 0
    while offset < size && failure == nil {
        let count = min(size - offset, 1 << 20)
        do {
            let chunk = TestPattern.pattern(from: offset, count: count)
            try withBytes(of: chunk) { (raw) throws(Errno) in try Posix.writeAll(descriptor, raw) }
        } catch { failure = error }
        offset += count
    }
    do { try Posix.close(descriptor) } catch { if failure == nil { failure = error } }
    if let failure = failure { throw failure }
}

func mebibytesPerSecond(_ bytes: Int, nanoseconds: UInt64) -> Double {
    guard nanoseconds > 0 else { return 0 }
    return Double(bytes) / bytesPerMegabyte * 1e9 / Double(nanoseconds)
}
