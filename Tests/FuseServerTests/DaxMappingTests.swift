import FuseServer
import Glibc
import Passthrough
import Synchronization
import SwiftFSProtocol
import SystemSupport
import TestSupport
import Testing

private let MiB: UInt64 = 1 << 20
private let byNode = UInt64.max

extension FuseTestSession {
    func setupMapping(_ node: UInt64, fh: UInt64 = UInt64.max, fileOffset: UInt64, length: UInt64,
                      flags: UInt64 = FuseFlag.mappingRead, windowOffset: UInt64) -> Reply {
        var body = RequestBytes()
        var mapping = FuseSetupMappingIn()
        mapping.fh = fh
        mapping.foffset = fileOffset
        mapping.len = length
        mapping.flags = flags
        mapping.moffset = windowOffset
        body.append(mapping)
        return send(.setupMapping, node: node, body: body)!
    }

    /// REMOVEMAPPING of `ranges`; `count` may claim more entries than the request holds.
    func removeMapping(_ node: UInt64, _ ranges: [(UInt64, UInt64)], count: UInt32? = nil) -> Reply {
        var body = RequestBytes()
        var removal = FuseRemoveMappingIn()
        removal.count = count ?? UInt32(ranges.count)
        body.append(removal)
        for (offset, length) in ranges {
            var one = FuseRemoveMappingOne()
            one.moffset = offset
            one.len = length
            body.append(one)
        }
        return send(.removeMapping, node: node, body: body)!
    }

    func fsync(_ node: UInt64, fh: UInt64) -> Reply {
        var body = RequestBytes()
        var fsyncIn = FuseFsyncIn()
        fsyncIn.fh = fh
        body.append(fsyncIn)
        return send(.fsync, node: node, body: body)!
    }

    func flush(_ node: UInt64, fh: UInt64) -> Reply {
        var body = RequestBytes()
        var flushIn = FuseFlushIn()
        flushIn.fh = fh
        body.append(flushIn)
        return send(.flush, node: node, body: body)!
    }

    func truncate(_ node: UInt64, to size: UInt64) -> Reply {
        var body = RequestBytes()
        var setattrIn = FuseSetattrIn()
        setattrIn.valid = FuseSetattrValid.size.rawValue
        setattrIn.size = size
        body.append(setattrIn)
        return send(.setattr, node: node, body: body)!
    }

    /// Window bytes [offset, offset + count).
    func windowBytes(_ offset: UInt64, _ count: UInt64) -> [UInt8] {
        Array(window!.bytes[Int(offset)..<Int(offset + count)])
    }

    /// A host file with `bytes`, looked up: its node id.
    func hostFile(_ name: String, _ bytes: [UInt8]) throws -> UInt64 {
        HostFiles.write(hostPath(name), bytes)
        return try #require(lookup(name).record(FuseEntryOut.self)).nodeID
    }

    func openHandle(_ node: UInt64, flags: UInt32) throws -> UInt64 {
        try #require(open(node, flags: flags).record(FuseOpenOut.self)).fh
    }
}

private func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ ($0 >> 12)) }
}

/// The DAX window over a real shared file: SETUPMAPPING fills it from the
/// host file, write mappings reach the file, every bad request is refused
/// with the window and the mapping table untouched.
@Suite struct DaxMappingTests {
    let session: FuseTestSession
    static let windowSize = 16 * MiB
    init() throws { session = try FuseTestSession(daxWindowSize: Self.windowSize) }

    // MARK: INIT

    @Test func initGrantsMapAlignmentOf2MiBOnlyWithAWindow() throws {
        let initOut = try #require(session.sendInit().record(FuseInitOut.self))
        #expect(initOut.flags & UInt32(FuseInitFlags.mapAlignment.rawValue) != 0)
        #expect(initOut.mapAlignment == 21)

        let plain = try FuseTestSession()
        let plainOut = try #require(plain.sendInit().record(FuseInitOut.self))
        #expect(plainOut.flags & UInt32(FuseInitFlags.mapAlignment.rawValue) == 0)
        #expect(plainOut.mapAlignment == 0)
        #expect(plain.setupMapping(1, fileOffset: 0, length: 2 * MiB, windowOffset: 0).error == Errno.ENOSYS.rawValue)
        #expect(plain.removeMapping(1, [(0, 2 * MiB)]).error == Errno.ENOSYS.rawValue)
    }

    @Test func noMapAlignmentWhenTheGuestDoesNotOfferIt() throws {
        let initOut = try #require(session.sendInit(flags: [.asyncRead, .initExt]).record(FuseInitOut.self))
        #expect(initOut.flags & UInt32(FuseInitFlags.mapAlignment.rawValue) == 0)
        #expect(initOut.mapAlignment == 0)
    }

    // MARK: Filling

    @Test func readMappingByNodeFillsTheWindowAndZeroFillsPastTheEnd() throws {
        let data = pattern(Int(3 * MiB) + 1000, seed: 1)
        let node = try session.hostFile("f", data)
        _ = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        session.window!.bytes.initializeMemory(as: UInt8.self, repeating: 0xAA)
        #expect(session.setupMapping(node, fh: byNode, fileOffset: 0, length: 4 * MiB, windowOffset: 2 * MiB).ok)
        #expect(session.windowBytes(2 * MiB, UInt64(data.count)) == data)
        let tail = session.windowBytes(2 * MiB + UInt64(data.count), 4 * MiB - UInt64(data.count))
        #expect(tail.allSatisfy { $0 == 0 }, "the last partial range reads zeros past the end of the file")
        #expect(session.windowBytes(0, 2 * MiB).allSatisfy { $0 == 0xAA }, "bytes outside the mapping stay")
        #expect(session.windowBytes(6 * MiB, 1).first == 0xAA)
    }

    @Test func readMappingByHandleAtAFileOffset() throws {
        let data = pattern(Int(5 * MiB), seed: 2)
        let node = try session.hostFile("g", data)
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 2 * MiB, length: 2 * MiB, windowOffset: 8 * MiB).ok)
        #expect(session.windowBytes(8 * MiB, 2 * MiB) == Array(data[Int(2 * MiB)..<Int(4 * MiB)]))
    }

    @Test func aMappingOutlivesItsHandleAndIsRemoved() throws {
        let node = try session.hostFile("h", pattern(100, seed: 3))
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        #expect(session.release(node, fh: fh).ok)
        #expect(session.windowBytes(0, 100) == pattern(100, seed: 3))
        #expect(session.removeMapping(node, [(0, 2 * MiB)]).ok)
        #expect(session.removeMapping(node, [(0, 2 * MiB)]).error == Errno.EINVAL.rawValue, "already removed")
    }

    // MARK: Write mappings

    /// Stores into a write mapping reach the file on `finish`, never beyond its size.
    private func checkWriteBack(name: String, _ finish: (UInt64, UInt64) -> Reply) throws {
        let original = pattern(Int(MiB) + 123, seed: 4)
        let node = try session.hostFile(name, original)
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readWrite)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB,
                                     flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 4 * MiB).ok)
        let stores = pattern(5000, seed: 9)
        session.window!.bytes[Int(4 * MiB + 1000)..<Int(4 * MiB + 6000)].copyBytes(from: stores)
        session.window!.bytes[Int(4 * MiB + MiB + 500)] = 0x55 // beyond the end of the file
        #expect(HostFiles.read(session.hostPath(name)) == original, "nothing written before \(name)")
        #expect(finish(node, fh).ok)
        var expected = original
        expected.replaceSubrange(1000..<6000, with: stores)
        #expect(HostFiles.read(session.hostPath(name)) == expected, "the file never grows through the window")
    }

    @Test func writeMappingIsWrittenBackOnRemoveMapping() throws {
        try checkWriteBack(name: "remove") { node, _ in session.removeMapping(node, [(4 * MiB, 2 * MiB)]) }
    }

    @Test func writeMappingIsWrittenBackOnFsync() throws {
        try checkWriteBack(name: "fsync") { node, fh in session.fsync(node, fh: fh) }
    }

    @Test func writeMappingIsWrittenBackOnFlush() throws {
        try checkWriteBack(name: "flush") { node, fh in session.flush(node, fh: fh) }
    }

    @Test func writeMappingIsWrittenBackOnRelease() throws {
        try checkWriteBack(name: "release") { node, fh in session.release(node, fh: fh) }
    }

    @Test func aWriteBackSendsOnlyTheBytesTheGuestStored() throws {
        let original = pattern(Int(MiB), seed: 8)
        let node = try session.hostFile("precise", original)
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readWrite)
        usleep(30_000) // the fill is not within a clock tick of the file's creation
        #expect(session.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB,
                                     flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 0).ok)
        let stores = pattern(100, seed: 90)
        session.window!.bytes[1000..<1100].copyBytes(from: stores)
        // The host changes the file meanwhile: next to the guest's stores, and elsewhere.
        let hostBytes = pattern(100, seed: 91)
        let fd = open(session.hostPath("precise"), O_WRONLY)
        #expect(pwrite(fd, hostBytes, 1, 999) == 1 && pwrite(fd, hostBytes, 100, 500_000) == 100)
        close(fd)
        #expect(session.fsync(node, fh: fh).ok)
        var expected = original
        expected[999] = hostBytes[0]
        expected.replaceSubrange(1000..<1100, with: stores)
        expected.replaceSubrange(500_000..<500_100, with: hostBytes)
        #expect(HostFiles.read(session.hostPath("precise")) == expected, "the host's bytes survive the write-back")
        // Our own write-back does not hide the host's change: the next open refills.
        #expect(session.windowBytes(500_000, 100) == Array(original[500_000..<500_100]))
        #expect(session.release(node, fh: fh).ok)
        _ = try session.openHandle(node, flags: LinuxOpenFlags.readWrite)
        #expect(session.windowBytes(0, MiB) == expected)
    }

    @Test func writeMappingByNodeIsWrittenBackToo() throws {
        let node = try session.hostFile("bynode", pattern(10_000, seed: 5))
        #expect(session.setupMapping(node, fh: byNode, fileOffset: 0, length: 2 * MiB,
                                     flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 0).ok)
        session.window!.bytes[7] = 0xEE
        #expect(session.removeMapping(node, [(0, 2 * MiB)]).ok)
        #expect(HostFiles.read(session.hostPath("bynode"))?[7] == 0xEE)
    }

    @Test func remappingAWriteMappingWritesTheOldOneBackFirst() throws {
        let a = try session.hostFile("a", pattern(4096, seed: 6))
        let b = try session.hostFile("b", pattern(4096, seed: 7))
        #expect(session.setupMapping(a, fileOffset: 0, length: 2 * MiB,
                                     flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 0).ok)
        session.window!.bytes[0] = 0x42
        #expect(session.setupMapping(b, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        #expect(HostFiles.read(session.hostPath("a"))?[0] == 0x42)
        #expect(session.windowBytes(0, 4096) == pattern(4096, seed: 7))
    }

    // MARK: Coherence

    @Test func aHostRewriteIsVisibleInTheWindowAfterTheNextOpen() throws {
        let node = try session.hostFile("c", pattern(300_000, seed: 10))
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB).ok)
        #expect(session.release(node, fh: fh).ok)
        let rewritten = pattern(200_000, seed: 11) // shorter: the old tail must read zeros
        HostFiles.write(session.hostPath("c"), rewritten)
        #expect(session.windowBytes(2 * MiB, 10) == pattern(10, seed: 10), "a copy until the guest opens again")
        _ = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.windowBytes(2 * MiB, 200_000) == rewritten)
        #expect(session.windowBytes(2 * MiB + 200_000, 100_000).allSatisfy { $0 == 0 })
    }

    @Test func reopeningAnUnchangedFileKeepsTheWindowAsItIs() throws {
        let node = try session.hostFile("u", pattern(1000, seed: 12))
        usleep(30_000) // past the file times' clock tick: a fill right after a change is refilled at open
        #expect(session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        session.window!.bytes[0] = 0x99 // a marker: a refill would overwrite it
        _ = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.window!.bytes[0] == 0x99)
    }

    @Test func aSameSizeRewriteRightAfterTheFillIsSeenAtTheNextOpen() throws {
        // Size unchanged, and the times may be too (one clock tick): the racy check still refills.
        let node = try session.hostFile("s", pattern(5000, seed: 16))
        #expect(session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        HostFiles.write(session.hostPath("s"), pattern(5000, seed: 17))
        _ = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(session.windowBytes(0, 5000) == pattern(5000, seed: 17))
    }

    @Test func aFuseWriteUpdatesAnOverlappingReadMapping() throws {
        let node = try session.hostFile("w", pattern(3 * Int(MiB), seed: 13))
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readWrite)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 2 * MiB, length: 2 * MiB, windowOffset: 6 * MiB).ok)
        let data = pattern(8192, seed: 14)
        // Straddles the start of the mapped range: only its second half lands in the window.
        #expect(session.write(node, fh: fh, offset: 2 * MiB - 4096, data: data).ok)
        #expect(session.windowBytes(6 * MiB, 4096) == Array(data[4096...]))
        // Extending write beyond the old end: visible too.
        #expect(session.write(node, fh: fh, offset: 3 * MiB + 10, data: data).ok)
        #expect(session.windowBytes(6 * MiB + MiB + 10, 8192) == data)
    }

    @Test func aTruncationZeroesTheWindowPastTheNewEnd() throws {
        let node = try session.hostFile("t", pattern(Int(MiB), seed: 15))
        let fh = try session.openHandle(node, flags: LinuxOpenFlags.readWrite)
        #expect(session.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        #expect(session.truncate(node, to: 1000).ok)
        #expect(session.windowBytes(0, 1000) == pattern(1000, seed: 15))
        #expect(session.windowBytes(1000, MiB).allSatisfy { $0 == 0 })
    }

    // MARK: Refused requests

    /// Refusals change nothing: the window keeps its bytes, the table its mappings.
    @Test func badSetupMappingsAreRefusedAndChangeNothing() throws {
        let data = pattern(Int(4 * MiB), seed: 20)
        let node = try session.hostFile("bad", data)
        let readOnly = try session.openHandle(node, flags: LinuxOpenFlags.readOnly)
        let writeOnly = try session.openHandle(node, flags: LinuxOpenFlags.writeOnly)
        let other = try session.hostFile("other", pattern(10, seed: 21))
        let otherHandle = try session.openHandle(other, flags: LinuxOpenFlags.readOnly)
        let directory = try #require(session.mkdir("dir").record(FuseEntryOut.self)).nodeID
        // One good mapping that must survive every refusal below.
        #expect(session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok)
        session.window!.bytes[Int(2 * MiB)...].initializeMemory(as: UInt8.self, repeating: 0x77)
        let before = session.windowBytes(0, Self.windowSize)
        let rw = FuseFlag.mappingRead | FuseFlag.mappingWrite
        let window = Self.windowSize

        let refusals: [(String, Int32, Reply)] = [
            ("misaligned window offset", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: 4096)),
            ("misaligned file offset", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 4096, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("misaligned length", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: MiB, windowOffset: 2 * MiB)),
            ("zero length", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 0, windowOffset: 2 * MiB)),
            ("past the window", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 4 * MiB, windowOffset: window - 2 * MiB)),
            ("window offset outside", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: window)),
            ("window offset + length overflows", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 2 * MiB, windowOffset: UInt64.max - MiB - (UInt64.max - MiB) % (2 * MiB))),
            ("file offset + length overflows", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: UInt64.max - (UInt64.max % (2 * MiB)), length: 2 * MiB, windowOffset: 2 * MiB)),
            ("file offset beyond off_t", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: UInt64(Int64.max) - MiB - (UInt64(Int64.max) - MiB) % (2 * MiB), length: 2 * MiB, windowOffset: 2 * MiB)),
            ("unknown flags", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 0, length: 2 * MiB, flags: FuseFlag.mappingRead | 4, windowOffset: 2 * MiB)),
            ("write mapping through a read-only handle", Errno.EACCES.rawValue,
             session.setupMapping(node, fh: readOnly, fileOffset: 0, length: 2 * MiB, flags: rw, windowOffset: 2 * MiB)),
            ("any mapping through a write-only handle", Errno.EACCES.rawValue,
             session.setupMapping(node, fh: writeOnly, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("unknown node", Errno.EBADF.rawValue,
             session.setupMapping(9999, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("unknown handle", Errno.EBADF.rawValue,
             session.setupMapping(node, fh: 777, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("handle of another node", Errno.EBADF.rawValue,
             session.setupMapping(node, fh: otherHandle, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("a directory", Errno.EISDIR.rawValue,
             session.setupMapping(directory, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("a directory with a file's handle", Errno.EBADF.rawValue,
             session.setupMapping(directory, fh: readOnly, fileOffset: 0, length: 2 * MiB, windowOffset: 2 * MiB)),
            ("replacing the good mapping with a bad one", Errno.EINVAL.rawValue,
             session.setupMapping(node, fileOffset: 4096, length: 2 * MiB, windowOffset: 0)),
        ]
        for (what, errno, reply) in refusals {
            #expect(reply.error == errno, "\(what): got \(reply.error)")
        }
        #expect(session.windowBytes(0, window) == before, "a refused mapping leaves the window as it was")
        // The table too: the good mapping is still there, nothing else was added.
        #expect(session.removeMapping(node, [(2 * MiB, 2 * MiB)]).error == Errno.EINVAL.rawValue)
        #expect(session.removeMapping(node, [(0, 2 * MiB)]).ok)
        #expect(session.getattr(node).ok, "the server keeps serving")
    }

    @Test func writeMappingOnAReadOnlyShareIsRefused() throws {
        let readOnly = try FuseTestSession(readOnly: true, daxWindowSize: 4 * MiB)
        let node = try readOnly.hostFile("ro", pattern(100, seed: 30))
        let fh = try readOnly.openHandle(node, flags: LinuxOpenFlags.readOnly)
        #expect(readOnly.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB,
                                      flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 0).error == Errno.EROFS.rawValue)
        #expect(readOnly.setupMapping(node, fileOffset: 0, length: 2 * MiB,
                                      flags: FuseFlag.mappingRead | FuseFlag.mappingWrite, windowOffset: 0).error == Errno.EROFS.rawValue)
        #expect(readOnly.windowBytes(0, 100).allSatisfy { $0 == 0 })
        #expect(readOnly.setupMapping(node, fh: fh, fileOffset: 0, length: 2 * MiB, windowOffset: 0).ok, "reading is fine")
        #expect(readOnly.windowBytes(0, 100) == pattern(100, seed: 30))
    }

    @Test func badRemoveMappingsAreRefusedAndRemoveNothing() throws {
        let node = try session.hostFile("rm", pattern(100, seed: 40))
        #expect(session.setupMapping(node, fileOffset: 0, length: 4 * MiB, windowOffset: 0).ok)
        let refusals: [(String, Reply)] = [
            ("a range never mapped", session.removeMapping(node, [(8 * MiB, 2 * MiB)])),
            ("partly mapped", session.removeMapping(node, [(2 * MiB, 4 * MiB)])),
            ("a valid range with an unmapped one", session.removeMapping(node, [(0, 2 * MiB), (10 * MiB, 2 * MiB)])),
            ("misaligned", session.removeMapping(node, [(4096, 2 * MiB)])),
            ("zero length", session.removeMapping(node, [(0, 0)])),
            ("outside the window", session.removeMapping(node, [(Self.windowSize, 2 * MiB)])),
            ("offset + length overflows", session.removeMapping(node, [(UInt64.max - 2 * MiB + 1 - (UInt64.max - 2 * MiB + 1) % (2 * MiB), 4 * MiB)])),
            ("count larger than the request", session.removeMapping(node, [(0, 2 * MiB)], count: 2)),
            ("a huge count", session.removeMapping(node, [(0, 2 * MiB)], count: UInt32.max)),
            ("zero count", session.removeMapping(node, [], count: 0)),
        ]
        for (what, reply) in refusals {
            #expect(reply.error == Errno.EINVAL.rawValue, "\(what): got \(reply.error)")
        }
        // Both slots are still mapped: one batch removes them.
        #expect(session.removeMapping(node, [(0, 2 * MiB), (2 * MiB, 2 * MiB)]).ok)
        #expect(session.removeMapping(node, [(0, 2 * MiB)]).error == Errno.EINVAL.rawValue)
        #expect(session.getattr(node).ok, "the server keeps serving")
    }

    @Test func truncatedRequestsAreRefused() throws {
        var short = RequestBytes()
        short.append(raw: [UInt8](repeating: 0, count: FuseSetupMappingIn.wireSize - 1))
        #expect(session.send(.setupMapping, node: 1, body: short)?.error == Errno.EINVAL.rawValue)
        var shortRemove = RequestBytes()
        shortRemove.append(raw: [1, 0])
        #expect(session.send(.removeMapping, node: 1, body: shortRemove)?.error == Errno.EINVAL.rawValue)
    }
}

/// Several threads map, write through FUSE_WRITE, check and unmap at once,
/// each in its own part of the window: no mapping sees another's bytes.
@Suite struct ConcurrentDaxMappingTests {
    @Test func threadsMapWriteAndUnmapTheirOwnRangesAtOnce() throws {
        let threads = 4
        let session = try FuseTestSession(daxWindowSize: UInt64(threads) * 4 * MiB)
        var nodes: [UInt64] = [], handles: [UInt64] = []
        for index in 0..<threads {
            let node = try session.hostFile("c\(index)", pattern(Int(3 * MiB), seed: UInt8(index)))
            nodes.append(node)
            handles.append(try session.openHandle(node, flags: LinuxOpenFlags.readWrite))
        }
        let server = session.server, window = session.window!
        let failures = Atomic<Int>(0)
        let (allNodes, allHandles) = (nodes, handles)
        NativeThread.runAll(count: threads) { index in
            let replyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
            defer { replyBuffer.deallocate() }
            var unique = UInt64(index) << 32
            let node = allNodes[index], fh = allHandles[index]
            let windowOffset = UInt64(index) * 4 * MiB
            func call(_ opcode: FuseOpcode, _ body: RequestBytes) -> Bool {
                unique += 1
                var header = FuseInHeader()
                header.len = UInt32(FuseInHeader.wireSize + body.bytes.count)
                header.opcode = opcode.rawValue
                header.unique = unique
                header.nodeID = node
                var request = RequestBytes()
                request.append(header)
                request.append(raw: body.bytes)
                return FuseTestSession.exchange(server: server, request.bytes, replyBuffer: replyBuffer)?.ok == true
            }
            for round in 0..<10 {
                var setup = RequestBytes()
                var mapping = FuseSetupMappingIn()
                mapping.fh = round % 2 == 0 ? UInt64.max : fh
                mapping.len = 4 * MiB
                mapping.flags = FuseFlag.mappingRead
                mapping.moffset = windowOffset
                setup.append(mapping)
                var write = RequestBytes()
                var writeIn = FuseWriteIn()
                writeIn.fh = fh
                writeIn.offset = MiB + UInt64(round)
                writeIn.size = 1
                write.append(writeIn)
                write.append(raw: [UInt8(truncatingIfNeeded: round * 7 + index)])
                var remove = RequestBytes()
                var removal = FuseRemoveMappingIn()
                removal.count = 1
                remove.append(removal)
                var one = FuseRemoveMappingOne()
                one.moffset = windowOffset
                one.len = 4 * MiB
                remove.append(one)
                let ok = call(.setupMapping, setup) && call(.write, write)
                    && window.bytes[Int(windowOffset + MiB) + round] == UInt8(truncatingIfNeeded: round * 7 + index)
                    && window.bytes[Int(windowOffset)] == pattern(1, seed: UInt8(index))[0]
                    && window.bytes[Int(windowOffset + 3 * MiB)] == 0
                    && call(.removeMapping, remove)
                if !ok { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(session.getattr(nodes[0]).ok)
    }
}
