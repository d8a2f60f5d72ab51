// Host-only test of the 9P client against a scripted server: well-formed replies
// work (walk, getattr, read split at msize, readdir, fid reuse), and every
// malformed one (size not what was written, wrong tag, wrong type, trailing or
// missing bytes, Rlerror out of range, Rwalk with more qids than names, Rread or
// Rwrite counts beyond what was asked or sent, bad Rreaddir records, a broken
// device, a bad Rversion) is EIO (or EPROTO) instead of a trap.
// Run: guest/hosttest/run ninep-faults

private enum NineFault {
    case none
    case sizeTooSmall        // size field one less than the bytes written
    case sizeTooLarge        // size field one more than the bytes written
    case wrongTag
    case wrongType           // a well-formed reply of another message type
    case trailingByte        // one byte more than the message holds
    case emptyBody           // header only
    case errorZero           // Rlerror with ecode 0
    case errorHuge           // Rlerror with ecode 100000
    case brokenDevice        // call() returns nil
    case claimsTooMuch       // reports more bytes than the buffers hold
    case extraQid            // Rwalk nwqid = nwname + 1
    case readCountTooBig     // Rread count larger than asked
    case readCountBeyondData // Rread count larger than the data that follows
    case writeCountTooBig    // Rwrite count larger than sent
    case direntOverrun       // Rreaddir record whose name runs past count
    case direntSlash         // Rreaddir name with a "/"
    case direntStuck         // Rreaddir offsets that never move
    case wrongVersion        // Rversion "9P2000.u"
    case hugeMessageSize     // Rversion msize above what we asked
}

private final class ScriptedNineServer {
    var fault = NineFault.none
    /// msize the server agrees to (below the client's 512 KiB, so reads must split).
    var messageSize: UInt32 = 65536
    let device = VirtioNinePDevice(tag: "scripted")
    /// fid -> is a directory; what the server holds for the client.
    private(set) var fids: [UInt32: Bool] = [:]
    /// Requests naming a fid the server does not hold, or reusing a live one.
    private(set) var violations: [String] = []
    private(set) var largestReadCount: UInt32 = 0
    private(set) var largestFid: UInt32 = 0
    /// A readable file of this many bytes of "a".
    static let fileSize = 300_000

    init() {
        device.responder = { [unowned self] readable, writable in self.respond(readable, writable) }
    }

    private func use(_ fid: UInt32, _ what: String) -> Bool {
        if fids[fid] == nil { violations.append("\(what) on unknown fid \(fid)"); return false }
        return true
    }

    private func create(_ fid: UInt32, directory: Bool, _ what: String) {
        if fids[fid] != nil { violations.append("\(what) reuses live fid \(fid)") }
        fids[fid] = directory
        largestFid = max(largestFid, fid)
    }

    private func respond(_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int? {
        var bytes: [UInt8] = []
        for buffer in readable {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer.base, count: buffer.count))
        }
        return bytes.withUnsafeBytes { raw -> Int? in
            var request = NinePReader(raw)
            guard let size = request.u32(), Int(size) == raw.count, let type = request.u8(), let tag = request.u16() else {
                violations.append("request size field wrong")
                return nil
            }
            var body: [UInt8] = []
            var replyType = type &+ 1
            func u8(_ v: UInt8) { body.append(v) }
            func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
            func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
            func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
            func string(_ s: String) { u16(UInt16(s.utf8.count)); body.append(contentsOf: Array(s.utf8)) }
            func qid(directory: Bool) { u8(directory ? NinePQidType.directory : 0); u32(0); u64(directory ? 1 : 2) }
            func error(_ code: UInt32) { body = []; replyType = NinePMessageType.rlerror.rawValue; u32(code) }

            switch NinePMessageType(rawValue: type) {
            case .tversion:
                let asked = request.u32() ?? 0
                u32(fault == .hugeMessageSize ? asked * 2 : messageSize)
                string(fault == .wrongVersion ? "9P2000.u" : NineP.version)
            case .tattach:
                create(request.u32() ?? 0, directory: true, "Tattach")
                qid(directory: true)
            case .twalk:
                let fid = request.u32() ?? 0, newFid = request.u32() ?? 0, count = Int(request.u16() ?? 0)
                var names: [String] = []
                for _ in 0..<count { names.append(request.string() ?? "") }
                guard use(fid, "Twalk") else { error(9); break }
                if names.contains(where: { $0.hasPrefix("missing") }) { error(2); break }
                let isDirectory = names.last.map { $0.hasPrefix("dir") } ?? fids[fid]!
                create(newFid, directory: isDirectory, "Twalk")
                u16(UInt16(fault == .extraQid ? count + 1 : count))
                for _ in 0..<(fault == .extraQid ? count + 1 : count) { qid(directory: isDirectory) }
            case .tgetattr:
                let fid = request.u32() ?? 0
                guard use(fid, "Tgetattr") else { error(9); break }
                let isDirectory = fids[fid]!
                u64(NinePGetattrMask.basic)
                qid(directory: isDirectory)
                u32(isDirectory ? 0o040755 : 0o100644)
                u32(0); u32(0); u64(1); u64(0)
                u64(isDirectory ? 4096 : UInt64(ScriptedNineServer.fileSize))
                u64(4096); u64(8)
                for _ in 0..<10 { u64(0) }   // times (8), gen, data_version
            case .tlopen, .tlcreate:
                let fid = request.u32() ?? 0
                guard use(fid, "Tlopen") else { error(9); break }
                qid(directory: fids[fid]!)
                u32(0)
            case .tread:
                let fid = request.u32() ?? 0, offset = request.u64() ?? 0, count = request.u32() ?? 0
                guard use(fid, "Tread") else { error(9); break }
                largestReadCount = max(largestReadCount, count)
                let available = UInt64(ScriptedNineServer.fileSize) > offset ? UInt64(ScriptedNineServer.fileSize) - offset : 0
                let sent = UInt32(min(UInt64(count), available))
                u32(fault == .readCountTooBig ? count + 1 : fault == .readCountBeyondData ? sent + 10 : sent)
                body.append(contentsOf: [UInt8](repeating: 0x61, count: Int(fault == .readCountTooBig ? count + 1 : sent)))
            case .twrite:
                let fid = request.u32() ?? 0
                _ = request.u64()
                let count = request.u32() ?? 0
                guard use(fid, "Twrite") else { error(9); break }
                u32(fault == .writeCountTooBig ? count + 1 : count)
            case .treaddir:
                let fid = request.u32() ?? 0, offset = request.u64() ?? 0
                guard use(fid, "Treaddir") else { error(9); break }
                var records: [UInt8] = []
                if offset == 0 || fault == .direntStuck {
                    for (index, name) in [".", "..", fault == .direntSlash ? "a/b" : "file", "dir1"].enumerated() {
                        let saved = body
                        body = []
                        qid(directory: name != "file")
                        u64(fault == .direntStuck ? 0 : UInt64(index + 1))
                        u8(name == "file" ? 8 : 4)
                        if fault == .direntOverrun && name == "file" { u16(500) } else { string(name) }
                        records.append(contentsOf: body)
                        body = saved
                    }
                }
                u32(UInt32(records.count))
                body.append(contentsOf: records)
            case .tstatfs:
                _ = request.u32()
                u32(0x01021997); u32(4096)
                for _ in 0..<6 { u64(1000) }
                u32(255)
            case .tclunk:
                let fid = request.u32() ?? 0
                if use(fid, "Tclunk") { fids[fid] = nil }
            case .tmkdir:
                qid(directory: true)
            case .tsetattr, .tfsync, .tunlinkat, .trenameat:
                break
            default:
                error(95)
            }
            if fault == .brokenDevice { return nil }
            switch fault {
            case .wrongType: replyType = type == NinePMessageType.tstatfs.rawValue ? NinePMessageType.rgetattr.rawValue : NinePMessageType.rstatfs.rawValue
            case .trailingByte: body.append(0)
            case .emptyBody: body = []
            case .errorZero: error(0)
            case .errorHuge: error(100_000)
            default: break
            }
            var reply: [UInt8] = []
            let total = UInt32(NineP.headerSize + body.count)
            let sizeField = fault == .sizeTooSmall ? total - 1 : fault == .sizeTooLarge ? total + 1 : total
            withUnsafeBytes(of: sizeField.littleEndian) { reply.append(contentsOf: $0) }
            reply.append(replyType)
            withUnsafeBytes(of: (fault == .wrongTag ? tag &+ 1 : tag).littleEndian) { reply.append(contentsOf: $0) }
            reply.append(contentsOf: body)
            let written = scatter(reply, into: writable)
            if fault == .claimsTooMuch { return written + 1_000_000 }
            return written
        }
    }
}

func runNinePFaultTest() -> Int32 {
    let report = CheckReport()
    for line in mountStandardFileSystems(virtioFSTag: "none") { print(line) }
    let server = ScriptedNineServer()
    let fileSystem: NinePFileSystem
    do {
        fileSystem = try NinePFileSystem(device: server.device)
        try systemVFS.mount(fileSystem, at: "/host")
        report.pass("version, attach and mount")
    } catch {
        report.fail("version, attach and mount", error.name)
        return report.finish()
    }
    report.check("msize is the server's", fileSystem.session.messageSize == 65536, "\(fileSystem.session.messageSize)")
    report.check("stat through Twalk + Tgetattr", (try? Posix.stat("/host/file"))?.size == ScriptedNineServer.fileSize)
    report.fails("Rlerror ENOENT -> ENOENT", with: .ENOENT) { () throws(Errno) in try Posix.stat("/host/missing") }
    if let contents = try? Posix.readFile("/host/file") {
        report.check("read 300 KB split at msize", contents.count == ScriptedNineServer.fileSize && contents.allSatisfy { $0 == 0x61 }
                     && server.largestReadCount <= 65536 - UInt32(NineP.ioHeaderSize),
                     "\(contents.count) bytes, largest Tread \(server.largestReadCount)")
    } else {
        report.fail("read 300 KB split at msize", "read failed")
    }
    if let directory = try? Posix.opendir("/host") {
        var names: [String] = []
        while let entry = try? Posix.readdir(directory) { names.append(entry.name + (entry.kind == .directory ? "/" : "")) }
        try? Posix.closedir(directory)
        report.check("Treaddir decoded", names == ["./", "../", "file", "dir1/"], "names \(names)")
    } else {
        report.fail("Treaddir decoded", "opendir failed")
    }
    // Open and close many times: each open clones a fid and close clunks it, so numbers come back.
    let fidsBefore = fileSystem.session.fidsInUse
    for _ in 0..<50 {
        if let fd = try? Posix.open("/host/file", .readOnly) { try? Posix.close(fd) }
    }
    report.check("fids reused after clunk", fileSystem.session.fidsInUse == fidsBefore && server.largestFid < 10,
                 "\(fileSystem.session.fidsInUse) in use (before \(fidsBefore)), largest fid \(server.largestFid)")

    let faults: [(String, NineFault)] = [("size too small", .sizeTooSmall), ("size too large", .sizeTooLarge),
                                         ("wrong tag", .wrongTag), ("wrong type", .wrongType),
                                         ("trailing byte", .trailingByte), ("empty body", .emptyBody),
                                         ("Rlerror 0", .errorZero), ("Rlerror 100000", .errorHuge),
                                         ("broken device", .brokenDevice), ("claims too much", .claimsTooMuch)]
    var name = 0
    for (label, fault) in faults {
        server.fault = fault
        name += 1   // a fresh name each time, so the name cache cannot answer
        report.fails("Twalk with \(label) -> EIO", with: .EIO) { () throws(Errno) in try Posix.stat("/host/n\(name)") }
        report.fails("Tstatfs with \(label) -> EIO", with: .EIO) { () throws(Errno) in try Posix.statfs("/host") }
    }
    server.fault = .extraQid
    report.fails("Rwalk nwqid > nwname -> EIO", with: .EIO) { () throws(Errno) in try Posix.stat("/host/extra") }

    server.fault = .none
    let fd = try? Posix.open("/host/file", .readWrite)
    var buffer = [UInt8](repeating: 0, count: 4096)
    server.fault = .readCountTooBig
    report.fails("Rread count > requested -> EIO", with: .EIO) { () throws(Errno) in try Posix.pread(fd ?? -1, into: &buffer, at: 0) }
    server.fault = .readCountBeyondData
    report.fails("Rread count beyond its data -> EIO", with: .EIO) { () throws(Errno) in try Posix.pread(fd ?? -1, into: &buffer, at: 0) }
    server.fault = .writeCountTooBig
    report.fails("Rwrite count > sent -> EIO", with: .EIO) { () throws(Errno) in try Posix.pwrite(fd ?? -1, [1, 2, 3], at: 0) }
    server.fault = .none
    if let fd = fd { try? Posix.close(fd) }

    for (label, fault) in [("name past count", NineFault.direntOverrun), ("name with /", .direntSlash),
                           ("offsets that never move", .direntStuck)] {
        server.fault = fault
        report.fails("Rreaddir with \(label) -> EIO", with: .EIO) { () throws(Errno) in
            let directory = try Posix.opendir("/host")
            defer { try? Posix.closedir(directory) }
            while try Posix.readdir(directory) != nil {}
        }
    }
    server.fault = .none
    report.check("every request named a live fid", server.violations.isEmpty, "\(server.violations)")

    server.fault = .wrongVersion
    report.fails("Rversion 9P2000.u -> EPROTO", with: .EPROTO) { () throws(Errno) in _ = try NinePFileSystem(device: server.device) }
    server.fault = .hugeMessageSize
    report.fails("Rversion msize above ours -> EIO", with: .EIO) { () throws(Errno) in _ = try NinePFileSystem(device: server.device) }
    return report.finish()
}
