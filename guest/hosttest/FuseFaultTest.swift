// Host-only test of the FUSE client against a scripted device: well-formed
// replies work, and every malformed one (short, wrong unique, wrong length,
// bad error value, broken device, bad directory records) becomes EIO instead
// of a trap. Run: guest/hosttest/run fuse-faults

/// What the scripted device does with the next request.
private enum Fault {
    case none
    case headerOnly          // success header, no reply body
    case wrongUnique
    case lengthMismatch      // out.len differs from the bytes written
    case positiveError
    case hugeNegativeError
    case brokenDevice        // call() returns nil
    case claimsTooMuch       // reports more bytes than the buffers hold
    case badDirent           // READDIRPLUS record with a name longer than the reply
    case hugeSize            // attributes with size 2^64 - 1 (clamped to Int.max)
}

private final class ScriptedServer {
    var fault = Fault.none
    var offersReaddirPlus = true
    let device = VirtioFSDevice(tag: "scripted")

    init() {
        device.responder = { [unowned self] readable, writable in self.respond(readable, writable) }
    }

    private func respond(_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int? {
        let request = UnsafeRawBufferPointer(start: readable[0].base, count: readable[0].count)
        let header = request.loadUnaligned(as: FuseInHeader.self)
        var body: [UInt8] = []
        func append<T: WireRecord>(_ record: T) {
            withUnsafeBytes(of: record) { body.append(contentsOf: $0) }
        }
        var attr = FuseAttr()
        attr.ino = header.nodeID == 1 ? 1 : 2
        attr.mode = header.nodeID == 1 ? 0o040755 : 0o100644
        attr.nlink = 1
        if fault == .hugeSize { attr.size = UInt64.max; attr.blocks = UInt64.max }
        var entry = FuseEntryOut()
        entry.nodeID = 2
        entry.entryValid = 1
        entry.attrValid = 1
        entry.attr = attr
        entry.attr.mode = 0o100644
        switch FuseOpcode(rawValue: header.opcode) {
        case .`init`:
            var out = FuseInitOut()
            out.major = 7
            out.minor = 38
            out.maxWrite = 131_072
            out.flags = offersReaddirPlus ? UInt32(truncatingIfNeeded: FuseInitFlags.doReaddirplus.rawValue) : 0
            append(out)
        case .getattr:
            var out = FuseAttrOut()
            out.attrValid = 1
            out.attr = attr
            append(out)
        case .lookup:
            append(entry)
        case .opendir, .open:
            append(FuseOpenOut())
        case .read:
            // Data wherever asked, even at offsets near Int.max (as a faulty server might).
            let size = request.loadUnaligned(fromByteOffset: FuseInHeader.wireSize + 16, as: UInt32.self)
            body.append(contentsOf: [UInt8](repeating: 0x61, count: Int(min(size, 1 << 20))))
        case .readdirplus, .readdir:
            var dirent = FuseDirent()
            dirent.ino = 2
            dirent.off = 1
            dirent.namelen = fault == .badDirent ? 500 : 4
            dirent.type = 8
            if header.opcode == FuseOpcode.readdirplus.rawValue { append(entry) }
            append(dirent)
            body.append(contentsOf: Array("file".utf8))
            body.append(contentsOf: [0, 0, 0, 0])
            if fault == .none {
                // Second call: end of directory.
                let offset = request.loadUnaligned(fromByteOffset: FuseInHeader.wireSize + 8, as: UInt64.self)
                if offset != 0 { body = [] }
            }
        default:
            break
        }
        if fault == .brokenDevice { return nil }
        var out = FuseOutHeader()
        out.unique = fault == .wrongUnique ? header.unique + 1 : header.unique
        if fault == .headerOnly { body = [] }
        out.error = fault == .positiveError ? 5 : fault == .hugeNegativeError ? -100_000 : 0
        out.len = UInt32(FuseOutHeader.wireSize + body.count) + (fault == .lengthMismatch ? 8 : 0)
        var reply: [UInt8] = []
        withUnsafeBytes(of: out) { reply.append(contentsOf: $0) }
        reply.append(contentsOf: body)
        let written = scatter(reply, into: writable)
        if fault == .claimsTooMuch { return written + 1_000_000 }
        return written
    }
}

func runFuseFaultTest() -> Int32 {
    let report = CheckReport()
    for line in mountStandardFileSystems(virtioFSTag: "none") { print(line) }
    let server = ScriptedServer()
    let fileSystem: FuseFileSystem
    do {
        fileSystem = try FuseFileSystem(device: server.device)
        try systemVFS.mount(fileSystem, at: "/host")
        report.pass("INIT and mount")
    } catch {
        report.fail("INIT and mount", error.name)
        return report.finish()
    }
    report.check("stat through LOOKUP", (try? Posix.stat("/host/file"))?.size == 0)
    if let directory = try? Posix.opendir("/host") {
        var names: [String] = []
        while let entry = try? Posix.readdir(directory) { names.append(entry.name) }
        try? Posix.closedir(directory)
        report.check("READDIRPLUS decoded", names == ["file"], "names \(names)")
    } else {
        report.fail("READDIRPLUS decoded", "opendir failed")
    }

    let faults: [(String, Fault)] = [("header only", .headerOnly), ("wrong unique", .wrongUnique),
                                     ("length mismatch", .lengthMismatch), ("positive error", .positiveError),
                                     ("huge negative error", .hugeNegativeError), ("broken device", .brokenDevice),
                                     ("claims too much", .claimsTooMuch)]
    var name = 0
    for (label, fault) in faults {
        server.fault = fault
        name += 1   // a fresh name each time, so the lookup cache cannot answer
        report.fails("LOOKUP with \(label) -> EIO", with: .EIO) { () throws(Errno) in try Posix.stat("/host/n\(name)") }
        report.fails("STATFS with \(label) -> EIO", with: .EIO) { () throws(Errno) in try Posix.statfs("/host") }
    }
    server.fault = .badDirent
    report.fails("READDIRPLUS with overlong name -> EIO", with: .EIO) { () throws(Errno) in
        let directory = try Posix.opendir("/host")
        defer { try? Posix.closedir(directory) }
        while try Posix.readdir(directory) != nil {}
    }
    // A size near Int.max from the server: O_APPEND and SEEK_END must fail, not overflow and trap.
    server.fault = .hugeSize
    report.check("huge size clamped", (try? Posix.stat("/host/big"))?.size == Int.max)
    if let fd = try? Posix.open("/host/big", [.writeOnly, .append]) {
        report.fails("O_APPEND write at huge size -> EFBIG", with: .EFBIG) { () throws(Errno) in try Posix.write(fd, "x") }
        report.fails("SEEK_END past Int.max -> EOVERFLOW", with: .EOVERFLOW) { () throws(Errno) in try Posix.lseek(fd, 1, .end) }
        report.fails("SEEK_CUR past Int.max -> EOVERFLOW", with: .EOVERFLOW) { () throws(Errno) in
            _ = try Posix.lseek(fd, Int.max, .start)
            return try Posix.lseek(fd, 1, .current)
        }
        report.fails("pwrite ending past Int.max -> EFBIG", with: .EFBIG) { () throws(Errno) in
            try Posix.pwrite(fd, [1, 2], at: Int.max - 1) }
        try? Posix.close(fd)
    } else {
        report.fail("open file with huge size", "open failed")
    }
    if let fd = try? Posix.open("/host/big", .readOnly) {
        var small = [UInt8](repeating: 0, count: 16)
        report.check("pread near Int.max stops there", (try? Posix.pread(fd, into: &small, at: Int.max - 8)) == 8)
        report.check("read near Int.max stops there", (try? Posix.lseek(fd, Int.max - 4, .start)) == Int.max - 4
                     && (try? Posix.read(fd, into: &small)) == 4 && (try? Posix.read(fd, into: &small)) == 0)
        var linuxStat = [UInt8](repeating: 0, count: 144)
        let fstatResult = linuxStat.withUnsafeMutableBytes { swiftfs_fstat(fd, $0.baseAddress) }
        let blocks = linuxStat.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 64, as: Int64.self) }
        report.check("C fstat with st_blocks 2^64-1 clamps", fstatResult == 0 && blocks == Int64.max, "returned \(fstatResult), blocks \(blocks)")
        try? Posix.close(fd)
    } else {
        report.fail("open file with huge size", "open failed")
    }
    server.fault = .none
    server.offersReaddirPlus = false
    if let plain = try? FuseFileSystem(device: server.device), let stream = try? plain.openDirectory(plain.rootNode) {
        var names: [String] = []
        while let entry = try? stream.next() { names.append(entry.name) }
        stream.close()
        report.check("READDIR without readdirplus", names == ["file"] && !plain.session.usesReaddirPlus, "names \(names)")
    } else {
        report.fail("READDIR without readdirplus", "mount or opendir failed")
    }
    server.fault = .headerOnly
    report.fails("INIT with short reply -> EIO", with: .EIO) { () throws(Errno) in
        _ = try FuseFileSystem(device: server.device)
    }
    return report.finish()
}
