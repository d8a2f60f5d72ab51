// app=dirtree: builds a tree of `dirs` directories (each directory has up to
// `fanout` subdirectories) holding `files` files of `size` bytes, lists it
// completely, reads every file back, then deletes everything. Checks counts
// and contents; prints phase timings and a RESULT line.

func runDirtree(_ arguments: ApplicationArguments) -> Int32 {
    let root = arguments.string("root", default: "/ram")
    let directoryCount = max(0, arguments.integer("dirs", default: 1000))
    let fileCount = max(0, arguments.integer("files", default: 10000))
    let fanout = max(1, arguments.integer("fanout", default: 10))
    let fileSize = max(0, arguments.integer("size", default: 128))
    let report = CheckReport()
    let top = root + "/dirtree"
    print("dirtree: root=\(root) dirs=\(directoryCount) files=\(fileCount) fanout=\(fanout) size=\(fileSize)")
    do { try removeTree(top) } catch { report.fail("clean previous run", error.name) }

    // Directory 0 is `top`; directory i > 0 lives in directory (i - 1) / fanout.
    var directories = [top]
    directories.reserveCapacity(directoryCount + 1)
    var failures = 0
    resetFuseStatistics(root: root)
    var start = monotonicNanoseconds()
    if (try? Posix.mkdir(top)) == nil { failures += 1 }
    for i in 1...max(1, directoryCount) where i <= directoryCount {
        let path = directories[(i - 1) / fanout] + "/d\(i)"
        directories.append(path)
        if (try? Posix.mkdir(path)) == nil { failures += 1 }
    }
    var filePaths: [String] = []
    filePaths.reserveCapacity(fileCount)
    for j in 0..<fileCount {
        // Files spread over all directories, the top one included.
        let path = directories[j % directories.count] + "/f\(j)"
        filePaths.append(path)
        do {
            let fd = try Posix.open(path, [.create, .exclusive, .writeOnly])
            let contents = TestPattern.dirtreeContents(index: j, size: fileSize)
            try withBytes(of: contents) { (bytes) throws(Errno) in try Posix.writeAll(fd, bytes) }
            try Posix.close(fd)
        } catch { failures += 1 }
    }
    let createTime = monotonicNanoseconds() - start
    report.check("create \(directoryCount) dirs and \(fileCount) files", failures == 0, "\(failures) failures")

    start = monotonicNanoseconds()
    var listed = (directories: 0, files: 0, errors: 0)
    countTree(top, into: &listed)
    let listTime = monotonicNanoseconds() - start
    report.check("list directories", listed.directories == directoryCount, "listed \(listed.directories)")
    report.check("list files", listed.files == fileCount, "listed \(listed.files)")
    report.check("list without errors", listed.errors == 0, "\(listed.errors) errors")

    start = monotonicNanoseconds()
    var mismatches = 0
    var buffer = [UInt8](repeating: 0, count: fileSize + 1)
    for (j, path) in filePaths.enumerated() {
        do {
            let fd = try Posix.open(path, .readOnly)
            var total = 0
            while total <= fileSize {
                let count = try withMutableBytes(of: &buffer) { (raw) throws(Errno) -> Int in
                    try Posix.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[total...]))
                }
                if count == 0 { break }
                total += count
            }
            try Posix.close(fd)
            if total != fileSize || !buffer[0..<total].elementsEqual(TestPattern.dirtreeContents(index: j, size: fileSize)) {
                mismatches += 1
            }
        } catch { mismatches += 1 }
    }
    let readTime = monotonicNanoseconds() - start
    report.check("read back \(fileCount) files", mismatches == 0, "\(mismatches) wrong or unreadable")

    start = monotonicNanoseconds()
    failures = 0
    for path in filePaths where (try? Posix.unlink(path)) == nil { failures += 1 }
    for path in directories.reversed() where (try? Posix.rmdir(path)) == nil { failures += 1 }
    let deleteTime = monotonicNanoseconds() - start
    report.check("delete everything", failures == 0, "\(failures) failures")
    report.check("tree gone", (try? Posix.stat(top)) == nil)

    let entries = directoryCount + fileCount
    print("dirtree: create \(seconds(createTime)) s (\(formatFixed(perSecond(entries, nanoseconds: createTime))) entries/s)")
    print("dirtree: list   \(seconds(listTime)) s (\(formatFixed(perSecond(entries, nanoseconds: listTime))) entries/s)")
    print("dirtree: read   \(seconds(readTime)) s (\(formatFixed(perSecond(fileCount, nanoseconds: readTime))) files/s)")
    print("dirtree: delete \(seconds(deleteTime)) s (\(formatFixed(perSecond(entries, nanoseconds: deleteTime))) entries/s)")
    print("RESULT dirtree root=\(root) dirs=\(directoryCount) files=\(fileCount) listed_dirs=\(listed.directories) listed_files=\(listed.files) create_s=\(seconds(createTime)) list_s=\(seconds(listTime)) read_s=\(seconds(readTime)) delete_s=\(seconds(deleteTime))")
    printFuseStatistics(app: "dirtree", root: root)
    return report.finish()
}

/// Counts directories and files below `path` (not `path` itself) with readdir.
private func countTree(_ path: String, into counts: inout (directories: Int, files: Int, errors: Int)) {
    var subdirectories: [String] = []
    do {
        let handle = try Posix.opendir(path)
        defer { try? Posix.closedir(handle) }
        while let entry = try Posix.readdir(handle) {
            if entry.name == "." || entry.name == ".." { continue }
            if entry.kind == .directory {
                counts.directories += 1
                subdirectories.append(path + "/" + entry.name)
            } else {
                counts.files += 1
            }
        }
    } catch {
        counts.errors += 1
    }
    for child in subdirectories { countTree(child, into: &counts) }
}
