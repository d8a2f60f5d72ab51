// app=selftest: every file call on each root (default /ram and /host),
// including the error cases, one PASS/FAIL line per check.
//
// Files left behind for the host to verify byte for byte (under <root>/selftest/,
// i.e. <shared dir>/selftest/ for /host):
//   hello.txt    "Hello from the swiftfs unikernel\n" (33 bytes)
//   pattern.bin  1 MiB (1048576 bytes), byte i = (i * 251 + (i >> 12)) & 0xff
// Everything else the test creates is removed again.

func runSelftest(_ arguments: ApplicationArguments) -> Int32 {
    let report = CheckReport()
    for root in arguments.list("roots", default: ["/ram", "/host"]) {
        report.prefix = root + ": "
        guard systemVFS.fileSystem(mountedAt: root) != nil else {
            report.fail("mounted", "nothing mounted at \(root)")
            continue
        }
        SelftestRun(root: root, report: report).run()
    }
    report.prefix = ""
    return report.finish()
}

private struct SelftestRun {
    let root: String
    let report: CheckReport
    var base: String { root + "/selftest" }

    func run() {
        do { try removeTree(base) } catch { report.fail("clean previous run", error.name) }
        report.succeeds("mkdir selftest") { () throws(Errno) in try Posix.mkdir(base) }
        helloFile()
        patternFile()
        seeking()
        appendAndTruncateFlags()
        sparseAndTruncate()
        badDescriptors()
        trailingSlashes()
        directories()
        renames()
        unlinkWhileOpen()
        listing()
        attributes()
        manyFiles()
        cInterface()
        cleanUp()
    }

    private func helloFile() {
        let path = base + "/hello.txt"
        let text = Array(TestPattern.helloText.utf8)
        if let fd = report.succeeds("open O_CREAT|O_EXCL", { () throws(Errno) in
            try Posix.open(path, [.create, .exclusive, .writeOnly]) }) {
            let written = try? Posix.write(fd, text)
            report.check("write hello", written == text.count, "wrote \(written ?? -1)")
            report.succeeds("close") { () throws(Errno) in try Posix.close(fd) }
        }
        report.fails("O_EXCL on existing", with: .EEXIST) { () throws(Errno) in
            try Posix.open(path, [.create, .exclusive, .writeOnly]) }
        report.fails("open missing", with: .ENOENT) { () throws(Errno) in
            try Posix.open(base + "/missing", .readOnly) }
        report.fails("open in missing dir", with: .ENOENT) { () throws(Errno) in
            try Posix.open(base + "/nodir/x", [.create, .writeOnly]) }
        if let stat = report.succeeds("stat hello", { () throws(Errno) in try Posix.stat(path) }) {
            report.check("stat size", stat.size == text.count, "size \(stat.size)")
            report.check("stat kind", stat.kind == .regular && stat.mode & 0o170000 == 0o100000, "mode \(stat.mode)")
            report.check("stat nlink", stat.linkCount == 1, "nlink \(stat.linkCount)")
        }
        let back = try? Posix.readFile(path)
        report.check("read hello", back == text, "content differs (\(back?.count ?? -1) bytes)")
        let dotted = try? Posix.stat(base + "/./sub/../hello.txt")
        report.check("stat with . and ..", dotted?.size == text.count, "resolved wrong")
    }

    private func patternFile() {
        let path = base + "/pattern.bin"
        let size = 1 << 20
        guard let fd = report.succeeds("create pattern.bin", { () throws(Errno) in
            try Posix.open(path, [.create, .readWrite, .truncate]) }) else { return }
        // Odd-sized writes cross every buffer and page boundary.
        var offset = 0
        var writeFailure: Errno? = nil
        while offset < size && writeFailure == nil {
            let step = min(size - offset, 100_003)
            do {
                let count = try Posix.write(fd, TestPattern.pattern(from: offset, count: step))
                if count != step { writeFailure = .EIO }
            } catch { writeFailure = error }
            offset += step
        }
        report.check("write 1 MiB", writeFailure == nil, writeFailure?.name ?? "")
        let stat = try? Posix.fstat(fd)
        report.check("fstat 1 MiB", stat?.size == size, "size \(stat?.size ?? -1)")
        var buffer = [UInt8](repeating: 0, count: 65536)
        var random = SeededRandom(seed: 7)
        var preadOK = true
        for _ in 0..<32 {
            let at = random.below(size)
            let count = (try? Posix.pread(fd, into: &buffer, at: at)) ?? -1
            let expected = min(buffer.count, size - at)
            if count != expected || buffer[0..<count].elementsEqual(TestPattern.pattern(from: at, count: count)) == false {
                preadOK = false
            }
        }
        report.check("pread random offsets", preadOK, "mismatch")
        report.succeeds("fsync") { () throws(Errno) in try Posix.fsync(fd) }
        report.succeeds("close pattern.bin") { () throws(Errno) in try Posix.close(fd) }
        let whole = try? Posix.readFile(path)
        report.check("read back 1 MiB", whole == TestPattern.pattern(from: 0, count: size), "content differs")
    }

    private func seeking() {
        guard let fd = try? Posix.open(base + "/pattern.bin", .readOnly) else {
            report.fail("lseek", "cannot open pattern.bin")
            return
        }
        defer { try? Posix.close(fd) }
        report.check("lseek SEEK_END", (try? Posix.lseek(fd, 0, .end)) == 1 << 20)
        report.check("lseek SEEK_SET", (try? Posix.lseek(fd, 5000, .start)) == 5000)
        report.check("lseek SEEK_CUR", (try? Posix.lseek(fd, 96, .current)) == 5096)
        var buffer = [UInt8](repeating: 0, count: 100)
        report.setUp("read") { () throws(Errno) in try Posix.read(fd, into: &buffer) }
        report.check("read after lseek", buffer == TestPattern.pattern(from: 5096, count: 100), "wrong bytes")
        report.check("read advances offset", (try? Posix.lseek(fd, 0, .current)) == 5196)
        report.fails("lseek negative", with: .EINVAL) { () throws(Errno) in try Posix.lseek(fd, -1, .start) }
        report.setUp("lseek") { () throws(Errno) in try Posix.lseek(fd, 0, .end) }
        report.check("read at EOF returns 0", (try? Posix.read(fd, into: &buffer)) == 0)
    }

    private func appendAndTruncateFlags() {
        let path = base + "/append.txt"
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(path, Array("abc".utf8)) }
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, [.writeOnly, .append]) }) {
            report.setUp("lseek") { () throws(Errno) in try Posix.lseek(fd, 0, .start) }
            report.setUp("write") { () throws(Errno) in try Posix.write(fd, "def") }
            report.setUp("write") { () throws(Errno) in try Posix.write(fd, "gh") }
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
        }
        report.check("O_APPEND", (try? Posix.readFile(path)) == Array("abcdefgh".utf8), "content wrong")
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, [.writeOnly, .truncate]) }) { report.setUp("close") { () throws(Errno) in try Posix.close(fd) } }
        report.check("O_TRUNC", (try? Posix.stat(path))?.size == 0, "not truncated")
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, [.readWrite, .create]) }) {
            report.setUp("write") { () throws(Errno) in try Posix.write(fd, "xyz") }
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
        }
        report.check("O_CREAT on existing opens it", (try? Posix.readFile(path)) == Array("xyz".utf8), "content wrong")
        report.setUp("unlink") { () throws(Errno) in try Posix.unlink(path) }
    }

    private func sparseAndTruncate() {
        let path = base + "/sparse.bin"
        guard let fd = try? Posix.open(path, [.create, .readWrite, .exclusive]) else {
            report.fail("sparse create", "open failed")
            return
        }
        defer { try? Posix.close(fd); try? Posix.unlink(path) }
        let wrote = try? Posix.pwrite(fd, [0x58], at: 200_000)
        report.check("pwrite past end", wrote == 1)
        report.check("hole extends size", (try? Posix.fstat(fd))?.size == 200_001)
        var buffer = [UInt8](repeating: 0xFF, count: 4096)
        report.setUp("pread") { () throws(Errno) in try Posix.pread(fd, into: &buffer, at: 100_000) }
        report.check("hole reads zeros", buffer.allSatisfy { $0 == 0 }, "non-zero bytes")
        let data = try? Posix.lseek(fd, 0, .data)
        let hole = try? Posix.lseek(fd, 0, .hole)
        report.check("SEEK_DATA/SEEK_HOLE", (data ?? -1) >= 0 && (data ?? 300_000) <= 200_000 && (hole ?? -1) >= 0 && (hole ?? 300_000) <= 200_001,
                     "data \(data ?? -1) hole \(hole ?? -1)")
        report.fails("SEEK_DATA past end", with: .ENXIO) { () throws(Errno) in try Posix.lseek(fd, 300_000, .data) }
        report.setUp("pwrite") { () throws(Errno) in try Posix.pwrite(fd, Array("0123456789".utf8), at: 0) }
        report.succeeds("ftruncate shrink") { () throws(Errno) in try Posix.ftruncate(fd, 5) }
        report.check("shrunk size", (try? Posix.fstat(fd))?.size == 5)
        report.succeeds("ftruncate grow") { () throws(Errno) in try Posix.ftruncate(fd, 8) }
        var small = [UInt8](repeating: 0xFF, count: 16)
        let count = try? Posix.pread(fd, into: &small, at: 0)
        report.check("truncate keeps prefix, zero-fills", count == 8 && Array(small[0..<8]) == [48, 49, 50, 51, 52, 0, 0, 0],
                     "got \(count ?? -1) bytes")
        report.succeeds("truncate by path") { () throws(Errno) in try Posix.truncate(path, 3) }
        report.check("truncate by path size", (try? Posix.stat(path))?.size == 3)
        // Shrinking into a hole that was never written (fewer stored chunks than the new size covers).
        report.succeeds("ftruncate grow into hole") { () throws(Errno) in try Posix.ftruncate(fd, 1 << 20) }
        report.succeeds("ftruncate shrink within hole") { () throws(Errno) in try Posix.ftruncate(fd, 300_000) }
        report.check("hole shrink size", (try? Posix.fstat(fd))?.size == 300_000)
        var tail = [UInt8](repeating: 0xFF, count: 8)
        let tailCount = try? Posix.pread(fd, into: &tail, at: 299_992)
        report.check("hole shrink reads zeros", tailCount == 8 && tail.allSatisfy { $0 == 0 }, "got \(tailCount ?? -1) bytes")
        // Offsets at the top of the range fail cleanly instead of overflowing.
        report.fails("pwrite ending past Int.max", with: .EFBIG) { () throws(Errno) in try Posix.pwrite(fd, [1, 2], at: Int.max - 1) }
        report.fails("lseek SEEK_CUR overflow", with: .EOVERFLOW) { () throws(Errno) in
            _ = try Posix.lseek(fd, Int.max, .start)
            return try Posix.lseek(fd, 1, .current)
        }
        report.fails("write at offset Int.max", with: .EFBIG) { () throws(Errno) in try Posix.write(fd, "ab") }
        report.fails("lseek SEEK_END overflow", with: .EOVERFLOW) { () throws(Errno) in try Posix.lseek(fd, Int.max, .end) }
    }

    /// "name/" must name a directory: never unlink, create or rename a file through it.
    private func trailingSlashes() {
        let file = base + "/slash.txt", dir = base + "/slashdir"
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(file, Array("keep".utf8)) }
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(dir) }
        report.fails("unlink file/ -> ENOTDIR", with: .ENOTDIR) { () throws(Errno) in try Posix.unlink(file + "/") }
        report.check("file/ unlink kept the file", (try? Posix.readFile(file)) == Array("keep".utf8))
        report.fails("unlink dir/ -> EISDIR", with: .EISDIR) { () throws(Errno) in try Posix.unlink(dir + "/") }
        report.fails("unlink missing/ -> ENOENT", with: .ENOENT) { () throws(Errno) in try Posix.unlink(base + "/nothing/") }
        report.fails("O_CREAT new/ -> EISDIR", with: .EISDIR) { () throws(Errno) in
            try Posix.open(base + "/newfile/", [.create, .writeOnly]) }
        report.fails("new/ created nothing", with: .ENOENT) { () throws(Errno) in try Posix.stat(base + "/newfile") }
        report.fails("O_CREAT file/ -> ENOTDIR", with: .ENOTDIR) { () throws(Errno) in
            try Posix.open(file + "/", [.create, .writeOnly]) }
        report.fails("rename file/ -> ENOTDIR", with: .ENOTDIR) { () throws(Errno) in try Posix.rename(file + "/", base + "/moved") }
        report.fails("rename file to new/ -> ENOTDIR", with: .ENOTDIR) { () throws(Errno) in try Posix.rename(file, base + "/moved/") }
        report.check("failed renames kept the file", (try? Posix.readFile(file)) == Array("keep".utf8))
        report.succeeds("rename dir/ to new/") { () throws(Errno) in try Posix.rename(dir + "/", base + "/slashdir2/") }
        report.succeeds("rmdir dir/") { () throws(Errno) in try Posix.rmdir(base + "/slashdir2/") }
        report.setUp("unlink") { () throws(Errno) in try Posix.unlink(file) }
    }

    private func badDescriptors() {
        let path = base + "/hello.txt"
        var buffer = [UInt8](repeating: 0, count: 16)
        report.fails("read bad fd", with: .EBADF) { () throws(Errno) in try Posix.read(999, into: &buffer) }
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, .readOnly) }) {
            report.fails("write on O_RDONLY", with: .EBADF) { () throws(Errno) in try Posix.write(fd, "x") }
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
            report.fails("read closed fd", with: .EBADF) { () throws(Errno) in try Posix.read(fd, into: &buffer) }
            report.fails("close twice", with: .EBADF) { () throws(Errno) in try Posix.close(fd) }
        }
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, .writeOnly) }) {
            report.fails("read on O_WRONLY", with: .EBADF) { () throws(Errno) in try Posix.read(fd, into: &buffer) }
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
        }
        report.fails("fstat bad fd", with: .EBADF) { () throws(Errno) in try Posix.fstat(-1) }
    }

    private func directories() {
        let dir = base + "/dir"
        report.succeeds("mkdir") { () throws(Errno) in try Posix.mkdir(dir) }
        report.fails("mkdir existing", with: .EEXIST) { () throws(Errno) in try Posix.mkdir(dir) }
        report.fails("mkdir mount point", with: .EEXIST) { () throws(Errno) in try Posix.mkdir(root) }
        report.check("stat dir is directory", (try? Posix.stat(dir))?.isDirectory == true)
        report.fails("ENOTDIR open through file", with: .ENOTDIR) { () throws(Errno) in
            try Posix.open(base + "/hello.txt/x", .readOnly) }
        report.fails("ENOTDIR mkdir under file", with: .ENOTDIR) { () throws(Errno) in
            try Posix.mkdir(base + "/hello.txt/sub") }
        report.fails("ENOTDIR trailing slash", with: .ENOTDIR) { () throws(Errno) in
            try Posix.stat(base + "/hello.txt/") }
        report.fails("ENOTDIR rmdir file", with: .ENOTDIR) { () throws(Errno) in try Posix.rmdir(base + "/hello.txt") }
        report.fails("ENOTDIR opendir file", with: .ENOTDIR) { () throws(Errno) in try Posix.opendir(base + "/hello.txt") }
        report.fails("EISDIR open dir for writing", with: .EISDIR) { () throws(Errno) in try Posix.open(dir, .writeOnly) }
        report.fails("EISDIR unlink dir", with: .EISDIR) { () throws(Errno) in try Posix.unlink(dir) }
        if let fd = report.succeeds("open dir read-only", { () throws(Errno) in try Posix.open(dir, .readOnly) }) {
            var buffer = [UInt8](repeating: 0, count: 8)
            report.fails("EISDIR read dir", with: .EISDIR) { () throws(Errno) in try Posix.read(fd, into: &buffer) }
            report.check("fstat dir fd", (try? Posix.fstat(fd))?.isDirectory == true)
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
        }
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(dir + "/inside", [1, 2, 3]) }
        report.fails("ENOTEMPTY rmdir", with: .ENOTEMPTY) { () throws(Errno) in try Posix.rmdir(dir) }
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(dir + "/child") }
        report.check("dir nlink counts subdirs", (try? Posix.stat(dir))?.linkCount == 3,
                     "nlink \((try? Posix.stat(dir))?.linkCount ?? 0)")
        report.fails("ENOENT unlink missing", with: .ENOENT) { () throws(Errno) in try Posix.unlink(dir + "/nothing") }
        report.fails("ENOENT rmdir missing", with: .ENOENT) { () throws(Errno) in try Posix.rmdir(dir + "/nothing") }
        report.succeeds("unlink file") { () throws(Errno) in try Posix.unlink(dir + "/inside") }
        report.succeeds("rmdir child") { () throws(Errno) in try Posix.rmdir(dir + "/child") }
        report.succeeds("rmdir empty") { () throws(Errno) in try Posix.rmdir(dir) }
        report.fails("stat removed dir", with: .ENOENT) { () throws(Errno) in try Posix.stat(dir) }
    }

    private func renames() {
        let a = base + "/a.txt", b = base + "/b.txt"
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(a, Array("first".utf8)) }
        report.succeeds("rename") { () throws(Errno) in try Posix.rename(a, b) }
        report.fails("rename source gone", with: .ENOENT) { () throws(Errno) in try Posix.stat(a) }
        report.check("rename keeps content", (try? Posix.readFile(b)) == Array("first".utf8))
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(a, Array("second".utf8)) }
        report.succeeds("rename over existing") { () throws(Errno) in try Posix.rename(a, b) }
        report.check("target replaced", (try? Posix.readFile(b)) == Array("second".utf8))
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(base + "/d1") }
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(base + "/d1/inner") }
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(base + "/d2") }
        report.succeeds("rename across directories") { () throws(Errno) in try Posix.rename(b, base + "/d2/b.txt") }
        report.check("moved file readable", (try? Posix.readFile(base + "/d2/b.txt")) == Array("second".utf8))
        report.fails("rename dir into own subtree", with: .EINVAL) { () throws(Errno) in
            try Posix.rename(base + "/d1", base + "/d1/inner/d1") }
        report.fails("rename dir over non-empty dir", with: .ENOTEMPTY) { () throws(Errno) in
            try Posix.rename(base + "/d1", base + "/d2") }
        report.fails("rename file over dir", with: .EISDIR) { () throws(Errno) in
            try Posix.rename(base + "/d2/b.txt", base + "/d1") }
        report.fails("rename dir over file", with: .ENOTDIR) { () throws(Errno) in
            try Posix.rename(base + "/d1", base + "/d2/b.txt") }
        report.fails("rename missing", with: .ENOENT) { () throws(Errno) in try Posix.rename(base + "/none", base + "/x") }
        report.succeeds("rename dir") { () throws(Errno) in try Posix.rename(base + "/d1", base + "/d3") }
        report.check("renamed dir keeps children", (try? Posix.stat(base + "/d3/inner"))?.isDirectory == true)
        if systemVFS.fileSystem(mountedAt: "/ram") != nil && root != "/ram" {
            report.fails("rename across mounts", with: .EXDEV) { () throws(Errno) in
                try Posix.rename(base + "/d2/b.txt", "/ram/b.txt") }
        }
        report.setUp("removeTree") { () throws(Errno) in try removeTree(base + "/d2") }
        report.setUp("removeTree") { () throws(Errno) in try removeTree(base + "/d3") }
    }

    private func unlinkWhileOpen() {
        let path = base + "/doomed.txt"
        report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(path, Array("still here".utf8)) }
        guard let fd = try? Posix.open(path, .readWrite) else {
            report.fail("unlink while open", "open failed")
            return
        }
        report.succeeds("unlink open file") { () throws(Errno) in try Posix.unlink(path) }
        report.fails("unlinked path gone", with: .ENOENT) { () throws(Errno) in try Posix.stat(path) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = try? Posix.pread(fd, into: &buffer, at: 0)
        report.check("unlinked file still readable", count == 10 && Array(buffer[0..<10]) == Array("still here".utf8))
        report.succeeds("close unlinked file") { () throws(Errno) in try Posix.close(fd) }
    }

    private func listing() {
        let dir = base + "/list"
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(dir) }
        var expected: [String: Bool] = [:]
        for i in 0..<50 {
            let name = "entry-\(i)"
            report.setUp("writeFile") { () throws(Errno) in try Posix.writeFile(dir + "/" + name, [UInt8(i)]) }
            expected[name] = false
        }
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(dir + "/subdir") }
        expected["subdir"] = true
        var seen: [String: Bool] = [:]
        var dots = 0
        if let handle = report.succeeds("opendir", { () throws(Errno) in try Posix.opendir(dir) }) {
            do {
                while let entry = try Posix.readdir(handle) {
                    if entry.name == "." || entry.name == ".." { dots += 1; continue }
                    seen[entry.name] = entry.kind == .directory
                }
                pass("readdir")
            } catch { report.fail("readdir", error.name) }
            report.succeeds("closedir") { () throws(Errno) in try Posix.closedir(handle) }
        }
        report.check("readdir sees every entry", seen == expected, "saw \(seen.count) of \(expected.count)")
        report.check("readdir has . and ..", dots == 2, "\(dots) dot entries")
        do { try removeTree(dir) } catch { report.fail("remove listing", error.name) }
    }

    private func pass(_ name: String) { report.pass(name) }

    private func attributes() {
        let path = base + "/hello.txt"
        let before = try? Posix.stat(path)
        report.succeeds("chmod") { () throws(Errno) in try Posix.chmod(path, 0o600) }
        report.check("chmod applied", (try? Posix.stat(path))?.permissions == 0o600)
        report.setUp("chmod") { () throws(Errno) in try Posix.chmod(path, 0o644) }
        let stamp = FileTime(seconds: 0, nanoseconds: 1000)   // before "now" on any clock, even time since boot
        report.succeeds("set times") { () throws(Errno) in try Posix.setTimes(path, access: stamp, modification: stamp) }
        let after = try? Posix.stat(path)
        report.check("mtime set", after?.modificationTime == stamp, "mtime \(after?.modificationTime.seconds ?? -1)")
        report.check("atime set", after?.accessTime == stamp, "atime \(after?.accessTime.seconds ?? -1)")
        report.check("inode stable", before?.inode == after?.inode && before?.inode != 0)
        // Writing moves mtime forward again.
        if let fd = report.setUp("open", { () throws(Errno) in try Posix.open(path, .writeOnly) }) {
            report.setUp("pwrite") { () throws(Errno) in try Posix.pwrite(fd, Array(TestPattern.helloText.utf8), at: 0) }
            report.setUp("close") { () throws(Errno) in try Posix.close(fd) }
        }
        let written = try? Posix.stat(path)
        report.check("write updates mtime", (written?.modificationTime.seconds ?? 0) > stamp.seconds
                     || (written?.modificationTime.seconds == stamp.seconds && written!.modificationTime.nanoseconds > stamp.nanoseconds))
        if let stats = report.succeeds("statfs", { () throws(Errno) in try Posix.statfs(root) }) {
            report.check("statfs sane", stats.blockSize > 0 && stats.totalBlocks >= stats.freeBlocks)
        }
        report.check("stat root is directory", (try? Posix.stat(root))?.isDirectory == true)
    }

    private func manyFiles() {
        let dir = base + "/many"
        report.setUp("mkdir") { () throws(Errno) in try Posix.mkdir(dir) }
        var ok = true
        for i in 0..<200 {
            do {
                let fd = try Posix.open(dir + "/f\(i)", [.create, .exclusive, .writeOnly])
                _ = try Posix.write(fd, "\(i)")
                try Posix.close(fd)
            } catch { ok = false }
        }
        report.check("create 200 files", ok)
        ok = true
        for i in 0..<200 where (try? Posix.stat(dir + "/f\(i)"))?.size != "\(i)".utf8.count { ok = false }
        report.check("stat 200 files", ok)
        ok = true
        for i in 0..<200 { do { try Posix.unlink(dir + "/f\(i)") } catch { ok = false } }
        report.check("unlink 200 files", ok)
        report.succeeds("rmdir emptied dir") { () throws(Errno) in try Posix.rmdir(dir) }
        report.check("no descriptors leaked", systemDescriptors.openCount == 0, "\(systemDescriptors.openCount) open")
        // Closes send RELEASE in the background (more than the 16 slots here); sync waits for them.
        if let fuse = systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem {
            var reopened = true
            for _ in 0..<40 {
                guard let fd = try? Posix.open(base + "/hello.txt", .readOnly) else { reopened = false; break }
                do { try Posix.close(fd) } catch { reopened = false }
            }
            report.check("40 open/close with background RELEASE", reopened)
            report.succeeds("sync") { () throws(Errno) in try Posix.sync() }
            report.check("sync drains background RELEASEs", fuse.session.device.postedCount == 0,
                         "\(fuse.session.device.postedCount) still in flight")
        }
    }

    /// The @_cdecl entry points C code would call (-errno results, Linux struct stat).
    private func cInterface() {
        var path = Array((base + "/c-api.txt").utf8).map { CChar(bitPattern: $0) }
        path.append(0)
        var missing = Array((base + "/none").utf8).map { CChar(bitPattern: $0) }
        missing.append(0)
        report.check("C open missing = -ENOENT", swiftfs_open(missing, 0, 0) == -2)
        let fd = swiftfs_open(path, 0o1 | 0o100 | 0o200, 0o644)
        report.check("C open O_CREAT|O_EXCL", fd >= 3, "returned \(fd)")
        let text: [UInt8] = Array("C side".utf8)
        report.check("C write", swiftfs_write(fd, text, text.count) == text.count)
        var stat = [UInt8](repeating: 0, count: 144)
        report.check("C fstat", swiftfs_fstat(fd, &stat) == 0)
        let size = stat.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 48, as: Int64.self) }
        let mode = stat.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self) }
        report.check("C stat layout", size == 6 && mode == 0o100644, "size \(size) mode \(mode)")
        report.check("C close", swiftfs_close(fd) == 0)
        report.check("C close again = -EBADF", swiftfs_close(fd) == -9)
        report.check("C unlink", swiftfs_unlink(path) == 0)
    }

    /// Leaves only hello.txt and pattern.bin (see the header comment).
    private func cleanUp() {
        report.check("left hello.txt", (try? Posix.readFile(base + "/hello.txt")) == Array(TestPattern.helloText.utf8))
        report.check("left pattern.bin", (try? Posix.stat(base + "/pattern.bin"))?.size == 1 << 20)
    }
}
