// app=daxcheck: reads through the DAX window checked byte for byte
// (scripts/guest-check dax, with a window smaller than the largest file).
// The host prepares, in <dir> (default /host/dax), files whose byte i is
// TestPattern.patternByte(i):
//   big.bin    40 MiB (larger than the 16 MiB window: ranges are evicted and re-mapped)
//   small.bin  100000 bytes (less than one 2 MiB range)
//   tail.bin   3 * 2 MiB + 12345 bytes (the last range is partial)
//   rewrite.bin 3 MiB + 5 bytes of patternByte(i) ^ 0x5A; when the guest creates
//              rewrite-request, the host rewrites it in place with patternByte(i) ^ 0xA5 and
//              then creates rewrite-done (the file changes between two opens).
// The guest also writes written.bin through FUSE_WRITE and reads it back through
// the window after every change; it is left as the pattern's first 1 MiB + 7 bytes
// followed by zeros up to 3 MiB, which the host verifies.
//
//   app=daxcheck [dir=/host/dax] [expect=on|off]
//   expect=off: DAX must be off (a daemon without it); the same reads then go through
//   FUSE_READ and must give the same bytes.

func runDaxCheck(_ arguments: ApplicationArguments) -> Int32 {
    let report = CheckReport()
    let directory = arguments.string("dir", default: "/host/dax")
    let expectActive = arguments.string("expect", default: "on") == "on"
    guard let fuse = fuseFileSystem(holding: directory + "/") else {
        report.fail("mounted", "\(directory) is not on a virtio-fs mount")
        return report.finish()
    }
    print("daxcheck: \(fuse.daxSummary)")
    report.check("DAX \(expectActive ? "on" : "off") as expected", fuse.daxActive == expectActive, fuse.daxSummary)
    DaxCheckRun(directory: directory, fuse: fuse, report: report, expectActive: expectActive).run()
    return report.finish()
}

private struct DaxCheckRun {
    let directory: String
    let fuse: FuseFileSystem
    let report: CheckReport
    let expectActive: Bool

    static let range = DaxWindow.rangeSize
    static let bigSize = 40 << 20
    static let smallSize = 100_000
    static let tailSize = 3 * (2 << 20) + 12345
    static let rewriteSize = (3 << 20) + 5

    private var session: FuseSession { fuse.session }

    func run() {
        wholeFiles()
        rangeEdges()
        rereadsSendNoRead()
        largerThanWindow()
        guestWrites()
        hostRewrite()
        if let window = fuse.dax {
            print("daxcheck: window mappings=\(window.mappingsSetUp) evicted=\(window.rangesEvicted) refused=\(window.mappingsRefused)")
        }
    }

    private func wholeFiles() {
        expectPattern("small.bin read whole", "small.bin", size: DaxCheckRun.smallSize, chunk: 4096)
        expectPattern("tail.bin read whole (odd chunks)", "tail.bin", size: DaxCheckRun.tailSize, chunk: 1_000_003)
    }

    /// Reads that straddle range boundaries and the end of file.
    private func rangeEdges() {
        guard let descriptor = try? Posix.open(directory + "/tail.bin", .readOnly) else {
            report.fail("open tail.bin", "cannot open")
            return
        }
        defer { try? Posix.close(descriptor) }
        let size = DaxCheckRun.tailSize
        var buffer = [UInt8](repeating: 0, count: 8192)
        for start in [DaxCheckRun.range - 10, 2 * DaxCheckRun.range - 4096, size - 100, 3 * DaxCheckRun.range] {
            let count = (try? Posix.pread(descriptor, into: &buffer, at: start)) ?? -1
            let expected = min(buffer.count, size - start)
            report.check("pread \(buffer.count) at \(start)", count == expected && matches(buffer, count: count, fileOffset: start),
                         "got \(count) bytes, expected \(expected) of the pattern")
        }
        report.check("pread at end of file returns 0", (try? Posix.pread(descriptor, into: &buffer, at: size)) == 0)
        report.check("pread past end of file returns 0", (try? Posix.pread(descriptor, into: &buffer, at: size + 5000)) == 0)
    }

    /// With DAX the second read of a mapped range costs no request at all.
    private func rereadsSendNoRead() {
        let reads = session.requestCount(.read)
        let mappings = session.requestCount(.setupMapping)
        expectPattern("small.bin re-read", "small.bin", size: DaxCheckRun.smallSize, chunk: 65536)
        expectPattern("tail.bin re-read", "tail.bin", size: DaxCheckRun.tailSize, chunk: 1 << 20)
        let readDelta = session.requestCount(.read) - reads
        let mappingDelta = session.requestCount(.setupMapping) - mappings
        if expectActive {
            report.check("re-reads sent no FUSE_READ", readDelta == 0, "\(readDelta) FUSE_READ requests")
            report.check("re-reads set up no mapping", mappingDelta == 0, "\(mappingDelta) SETUPMAPPING requests")
        } else {
            report.check("without DAX re-reads go through FUSE_READ", readDelta > 0 && mappingDelta == 0,
                         "\(readDelta) FUSE_READ, \(mappingDelta) SETUPMAPPING")
        }
    }

    /// A file larger than the window, twice: ranges are evicted and mapped again.
    private func largerThanWindow() {
        let reads = session.requestCount(.read)
        let removals = session.requestCount(.removeMapping)
        expectPattern("big.bin (40 MiB) read whole", "big.bin", size: DaxCheckRun.bigSize, chunk: 1 << 20)
        expectPattern("big.bin read again (odd chunks)", "big.bin", size: DaxCheckRun.bigSize, chunk: 3 * 65536 + 17)
        if expectActive {
            report.check("big.bin through the window only", session.requestCount(.read) == reads,
                         "\(session.requestCount(.read) - reads) FUSE_READ requests")
            report.check("window ranges were evicted", session.requestCount(.removeMapping) > removals, "no REMOVEMAPPING sent")
        }
    }

    /// Writes go through FUSE_WRITE; every read after them must see them.
    private func guestWrites() {
        let path = directory + "/written.bin"
        let range = DaxCheckRun.range
        guard let descriptor = report.succeeds("create written.bin", { () throws(Errno) in
            try Posix.open(path, [.create, .truncate, .readWrite]) }) else { return }
        var ok = true
        var offset = 0
        while offset < 3 << 20 {
            let count = min((3 << 20) - offset, 300_007)
            if (try? Posix.write(descriptor, TestPattern.pattern(from: offset, count: count))) != count { ok = false }
            offset += count
        }
        report.check("write 3 MiB", ok)
        report.check("read back after write", readMatches(descriptor, from: 0, count: 3 << 20) { TestPattern.patternByte($0) })

        // Overwrite across a range boundary while the ranges are mapped.
        let patchStart = range - 500
        let patch = [UInt8](repeating: 0xEE, count: 1000)
        report.check("overwrite 1000 bytes", (try? Posix.pwrite(descriptor, patch, at: patchStart)) == patch.count)
        report.check("read sees the overwrite", readMatches(descriptor, from: range - 4096, count: 8192) { index in
            index >= patchStart && index < patchStart + 1000 ? 0xEE : TestPattern.patternByte(index)
        })

        // Extend past the end with a hole, then read the hole and the new bytes.
        let tailAt = (3 << 20) + 70_000
        report.check("pwrite past end", (try? Posix.pwrite(descriptor, [1, 2, 3], at: tailAt)) == 3)
        report.check("read hole and extension", readMatches(descriptor, from: (3 << 20) - 10, count: 70_013) { index in
            if index < 3 << 20 { return TestPattern.patternByte(index) }
            if index >= tailAt { return UInt8(index - tailAt + 1) }
            return 0
        })

        // Shrink, then grow again: the bytes cut off must read as zeros, not as stale window contents.
        let shortSize = (1 << 20) + 7
        report.succeeds("ftruncate shrink") { () throws(Errno) in try Posix.ftruncate(descriptor, shortSize) }
        var probe = [UInt8](repeating: 0, count: 64)
        report.check("read past new end returns 0", (try? Posix.pread(descriptor, into: &probe, at: shortSize)) == 0)
        report.succeeds("ftruncate grow") { () throws(Errno) in try Posix.ftruncate(descriptor, 3 << 20) }
        report.check("regrown part reads zeros", readMatches(descriptor, from: 0, count: 3 << 20) { index in
            index < shortSize ? TestPattern.patternByte(index) : 0
        })
        report.succeeds("close written.bin") { () throws(Errno) in try Posix.close(descriptor) }
        guard let again = try? Posix.open(path, .readOnly) else {
            report.fail("reopen written.bin", "cannot open")
            return
        }
        report.check("written.bin after reopen", readMatches(again, from: 0, count: 3 << 20) { index in
            index < shortSize ? TestPattern.patternByte(index) : 0
        })
        try? Posix.close(again)
    }

    /// The host rewrites rewrite.bin in place (same size) between two opens.
    private func hostRewrite() {
        let path = directory + "/rewrite.bin"
        let size = DaxCheckRun.rewriteSize
        expectContents("rewrite.bin before", path, size: size) { TestPattern.patternByte($0) ^ 0x5A }
        report.succeeds("ask the host to rewrite") { () throws(Errno) in
            try Posix.writeFile(directory + "/rewrite-request", Array("go\n".utf8))
        }
        let deadline = monotonicNanoseconds() + 120_000_000_000
        var done = false
        while !done && monotonicNanoseconds() < deadline {
            done = (try? Posix.stat(directory + "/rewrite-done")) != nil
            if !done {
                let pause = monotonicNanoseconds() + 20_000_000
                while monotonicNanoseconds() < pause {}
            }
        }
        guard done else {
            report.fail("host rewrote rewrite.bin", "no rewrite-done after 120 s")
            return
        }
        expectContents("rewrite.bin after re-open has the host's new bytes", path, size: size) { TestPattern.patternByte($0) ^ 0xA5 }
    }

    // MARK: Helpers

    private func expectPattern(_ name: String, _ file: String, size: Int, chunk: Int) {
        expectContents(name, directory + "/" + file, size: size, chunk: chunk) { TestPattern.patternByte($0) }
    }

    /// Opens `path`, reads it to the end in `chunk`-byte reads, compares every byte.
    private func expectContents(_ name: String, _ path: String, size: Int, chunk: Int = 1 << 20,
                                _ expected: (Int) -> UInt8) {
        guard let descriptor = try? Posix.open(path, .readOnly) else {
            report.fail(name, "cannot open \(path)")
            return
        }
        defer { try? Posix.close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            let count: Int
            do { count = try Posix.read(descriptor, into: buffer) } catch {
                report.fail(name, "read at \(offset): \(error.name)")
                return
            }
            if count == 0 { break }
            for index in 0..<count where buffer[index] != expected(offset + index) {
                report.fail(name, "byte \(offset + index) is \(buffer[index]), expected \(expected(offset + index))")
                return
            }
            offset += count
        }
        report.check(name, offset == size, "read \(offset) bytes, expected \(size)")
    }

    /// pread of `count` bytes at `start` equals `expected` byte for byte.
    private func readMatches(_ descriptor: Int32, from start: Int, count: Int, _ expected: (Int) -> UInt8) -> Bool {
        var buffer = [UInt8](repeating: 0, count: count)
        guard let read = try? Posix.pread(descriptor, into: &buffer, at: start), read == count else { return false }
        for index in 0..<count where buffer[index] != expected(start + index) { return false }
        return true
    }

    private func matches(_ buffer: [UInt8], count: Int, fileOffset: Int) -> Bool {
        guard count >= 0 else { return false }
        for index in 0..<count where buffer[index] != TestPattern.patternByte(fileOffset + index) { return false }
        return true
    }
}
