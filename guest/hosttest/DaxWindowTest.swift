// Host-only test of the FUSE client's DAX window policy against a scripted
// server that serves SETUPMAPPING by copying file ranges into a window in host
// memory: reads copy from the window, least recently used ranges are evicted
// first, busy ranges are never taken, refused mappings and ENOSYS fall back to
// FUSE_READ, a changed file loses its ranges at open, and DAX stays off unless
// the server grants FUSE_MAP_ALIGNMENT <= 21. Run: guest/hosttest/run dax-window

private final class DaxScriptedServer {
    let device = VirtioFSDevice(tag: "dax")
    let window: UnsafeMutableRawBufferPointer
    var file: [UInt8]
    var modificationSeconds: UInt64 = 1000
    var grantedAlignment: UInt16? = 21
    /// Negative errno for SETUPMAPPING of this file offset (nil: serve it).
    var refuseOffset: UInt64? = nil
    var setupError: Int32 = 0
    private(set) var setups: [(foffset: UInt64, moffset: UInt64)] = []
    private(set) var removals: [UInt64] = []
    private(set) var reads = 0
    static let handle: UInt64 = 7

    init(windowRanges: Int, fileSize: Int) {
        window = .allocate(byteCount: windowRanges * DaxWindow.rangeSize, alignment: 4096)
        window.initializeMemory(as: UInt8.self, repeating: 0xCC)
        file = [UInt8](repeating: 0, count: fileSize)
        for index in file.indices { file[index] = TestPattern.patternByte(index) }
        device.cacheWindow = window
        device.responder = { [unowned self] readable, writable in self.respond(readable, writable) }
    }

    private func respond(_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int? {
        let request = UnsafeRawBufferPointer(start: readable[0].base, count: readable[0].count)
        let header = request.loadUnaligned(as: FuseInHeader.self)
        let argumentsAt = FuseInHeader.wireSize
        var body: [UInt8] = []
        var error: Int32 = 0
        func append<T: WireRecord>(_ record: T) { withUnsafeBytes(of: record) { body.append(contentsOf: $0) } }
        var attr = FuseAttr()
        attr.ino = header.nodeID
        attr.mode = header.nodeID == 1 ? 0o040755 : 0o100644
        attr.nlink = 1
        attr.size = header.nodeID == 1 ? 0 : UInt64(file.count)
        attr.mtime = modificationSeconds
        attr.ctime = modificationSeconds
        switch FuseOpcode(rawValue: header.opcode) {
        case .`init`:
            var out = FuseInitOut()
            out.major = 7
            out.minor = 38
            out.maxWrite = 131_072
            if let alignment = grantedAlignment {
                out.flags = UInt32(truncatingIfNeeded: FuseInitFlags.mapAlignment.rawValue)
                out.mapAlignment = alignment
            }
            append(out)
        case .getattr:
            var out = FuseAttrOut()
            out.attrValid = 60
            out.attr = attr
            append(out)
        case .lookup:
            var entry = FuseEntryOut()
            entry.nodeID = 2
            entry.entryValid = 60
            entry.attrValid = 60
            attr.ino = 2
            attr.mode = 0o100644
            attr.size = UInt64(file.count)
            entry.attr = attr
            append(entry)
        case .open:
            var out = FuseOpenOut()
            out.fh = DaxScriptedServer.handle
            append(out)
        case .read:
            reads += 1
            let arguments = request.loadUnaligned(fromByteOffset: argumentsAt, as: FuseReadIn.self)
            let start = min(Int(arguments.offset), file.count)
            body.append(contentsOf: file[start..<min(file.count, start + Int(arguments.size))])
        case .setupMapping:
            let arguments = request.loadUnaligned(fromByteOffset: argumentsAt, as: FuseSetupMappingIn.self)
            if setupError != 0 {
                error = setupError
            } else if arguments.foffset == refuseOffset {
                error = -22
            } else if arguments.fh != DaxScriptedServer.handle || arguments.flags != FuseFlag.mappingRead
                        || arguments.len != UInt64(DaxWindow.rangeSize) || arguments.moffset % UInt64(DaxWindow.rangeSize) != 0
                        || arguments.moffset + arguments.len > UInt64(window.count) {
                error = -22
            } else {
                let destination = window.baseAddress! + Int(arguments.moffset)
                destination.initializeMemory(as: UInt8.self, repeating: 0, count: DaxWindow.rangeSize)
                let start = min(Int(arguments.foffset), file.count)
                let count = min(file.count - start, DaxWindow.rangeSize)
                file.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + start, byteCount: count) }
                setups.append((arguments.foffset, arguments.moffset))
            }
        case .removeMapping:
            let count = Int(request.loadUnaligned(fromByteOffset: argumentsAt, as: FuseRemoveMappingIn.self).count)
            for index in 0..<count {
                let one = request.loadUnaligned(fromByteOffset: argumentsAt + FuseRemoveMappingIn.wireSize + index * FuseRemoveMappingOne.wireSize,
                                                as: FuseRemoveMappingOne.self)
                removals.append(one.moffset)
            }
        default:
            break
        }
        var out = FuseOutHeader()
        out.unique = header.unique
        out.error = error
        if error != 0 { body = [] }
        out.len = UInt32(FuseOutHeader.wireSize + body.count)
        var reply: [UInt8] = []
        withUnsafeBytes(of: out) { reply.append(contentsOf: $0) }
        reply.append(contentsOf: body)
        let written = scatter(reply, into: writable)
        return written
    }
}

func runDaxWindowTest() -> Int32 {
    let report = CheckReport()
    let range = DaxWindow.rangeSize
    // A 4-range (8 MiB) window and a 20 MiB file (10 ranges).
    let server = DaxScriptedServer(windowRanges: 4, fileSize: 10 * range)
    guard let fileSystem = try? FuseFileSystem(device: server.device), let dax = fileSystem.dax,
          let node = try? fileSystem.lookup("file", in: fileSystem.rootNode) as? FuseNode,
          let file = try? fileSystem.open(node, flags: .readOnly) else {
        report.fail("mount with a DAX window", "INIT, LOOKUP or OPEN failed, or DAX off")
        return report.finish()
    }
    report.check("DAX on when granted", fileSystem.daxActive && dax.rangeCount == 4, fileSystem.daxSummary)

    var buffer = [UInt8](repeating: 0, count: range)
    func read(_ offset: Int, _ count: Int) -> Bool {
        let done = buffer.withUnsafeMutableBytes { raw in
            try? file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), at: offset)
        }
        return done == count && buffer[0..<count].elementsEqual(server.file[offset..<offset + count])
    }

    var ok = true
    var offset = 0
    while offset < server.file.count { ok = ok && read(offset, min(1_000_003, server.file.count - offset)); offset += 1_000_003 }
    report.check("20 MiB through an 8 MiB window, byte for byte", ok)
    report.check("no FUSE_READ, one mapping per range", server.reads == 0 && server.setups.count == 10,
                 "\(server.reads) reads, \(server.setups.count) mappings")
    report.check("ranges were evicted", server.removals.count >= 6, "\(server.removals.count) removals")

    // LRU: ranges 6...9 are mapped now. Touch 6, then map 0: range 7 (least recently used) goes.
    let mappingsBefore = server.setups.count
    _ = read(6 * range, 10)
    report.check("mapped range re-read needs no request", server.setups.count == mappingsBefore && server.reads == 0)
    _ = read(0, 10)
    let slotOfSeven = server.setups.last(where: { $0.foffset == UInt64(7 * range) })?.moffset
    report.check("least recently used range evicted first", server.removals.last == slotOfSeven,
                 "removed \(server.removals.last ?? 0), range 7 was at \(slotOfSeven ?? 0)")
    _ = read(6 * range, 10)
    report.check("recently used range kept", server.setups.count == mappingsBefore + 1)

    // Every range busy: the next read goes through FUSE_READ and leaves the busy ones alone.
    var borrowed: [Int] = []
    for index in [0, 6, 8, 9] {
        if let slot = try? dax.borrow(nodeID: node.nodeID, handle: DaxScriptedServer.handle, index: index,
                                      version: DaxFileVersion(node.attributes)) { borrowed.append(slot) }
    }
    let removalsBefore = server.removals.count
    report.check("all ranges busy: FUSE_READ", borrowed.count == 4 && read(3 * range + 5, 4096) && server.reads > 0
                 && server.removals.count == removalsBefore, "borrowed \(borrowed.count), reads \(server.reads)")
    for slot in borrowed { dax.giveBack(slot) }

    // A refused mapping: that range through FUSE_READ, DAX stays on.
    server.refuseOffset = UInt64(4 * range)
    let readsBefore = server.reads
    report.check("refused mapping: FUSE_READ", read(4 * range + 100, 5000) && server.reads > readsBefore && fileSystem.daxActive)
    server.refuseOffset = nil

    // The file changed on the server: its ranges are dropped at the next open.
    try? file.close()
    server.modificationSeconds += 1
    let removalsAtOpen = server.removals.count
    if let again = try? fileSystem.open(node, flags: .readOnly) {
        report.check("changed file loses its ranges at open", server.removals.count > removalsAtOpen && dax.mappedRangeCount == 0,
                     "\(server.removals.count - removalsAtOpen) removed, \(dax.mappedRangeCount) still mapped")
        try? again.close()
    } else {
        report.fail("changed file loses its ranges at open", "open failed")
    }

    // ENOSYS: DAX off for the session, reads keep working.
    if let again = try? fileSystem.open(node, flags: .readOnly) {
        server.setupError = -38
        var small = [UInt8](repeating: 0, count: 100)
        let count = small.withUnsafeMutableBytes { try? again.read(into: $0, at: 5 * range) }
        report.check("ENOSYS turns DAX off, read still served", count == 100 && !fileSystem.daxActive
                     && small[...].elementsEqual(server.file[5 * range..<5 * range + 100]))
        try? again.close()
        server.setupError = 0
    }

    server.grantedAlignment = nil
    report.check("not granted: DAX off", (try? FuseFileSystem(device: server.device))?.daxActive == false)
    server.grantedAlignment = 22
    report.check("alignment above 2 MiB: DAX off", (try? FuseFileSystem(device: server.device))?.daxActive == false)
    server.grantedAlignment = 21
    report.check("dax=off: DAX off", (try? FuseFileSystem(device: server.device, daxWanted: false))?.daxActive == false)
    return report.finish()
}
