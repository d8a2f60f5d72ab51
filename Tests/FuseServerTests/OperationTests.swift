import FuseServer
import Glibc
import Passthrough
import SwiftFSProtocol
import TestSupport
import Testing

/// One happy path per opcode, through the wire format.
@Suite struct OperationTests {
    let session: FuseTestSession
    init() throws { session = try FuseTestSession() }

    @Test func lookupAndGetattrOfAHostFile() throws {
        HostFiles.write(session.hostPath("hello.txt"), "hello")
        let reply = session.lookup("hello.txt")
        let entry = try #require(reply.record(FuseEntryOut.self))
        #expect(entry.nodeID > 1)
        #expect(entry.attr.size == 5)
        #expect(LinuxFileMode.isRegular(entry.attr.mode))
        #expect(entry.entryValid == 1 && entry.attrValid == 1) // cache=auto
        let attr = try #require(session.getattr(entry.nodeID).record(FuseAttrOut.self))
        #expect(attr.attr.ino == entry.attr.ino)
        #expect(session.lookup("missing").error == Errno.ENOENT.rawValue)
    }

    @Test func dotDotAtTheRootIsTheRoot() throws {
        let root = try #require(session.getattr(1).record(FuseAttrOut.self))
        let up = try #require(session.lookup("..").record(FuseEntryOut.self))
        #expect(up.nodeID == 1)
        #expect(up.attr.ino == root.attr.ino)
        #expect(try #require(session.lookup(".").record(FuseEntryOut.self)).nodeID == 1)
    }

    @Test func writeThenReadRoundTripsThroughScatteredSegments() throws {
        let (created, entry, fh) = session.create("data.bin")
        #expect(created.ok)
        let node = try #require(entry).nodeID
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let written = session.write(node, fh: fh!, offset: 0, data: data, segmentSize: 4093)
        #expect(written.record(FuseWriteOut.self)?.size == UInt32(data.count))
        let read = session.read(node, fh: fh!, offset: 1000, size: 200_000)
        #expect(read.body == Array(data[1000..<201_000]))
        // Past the end: a short read.
        #expect(session.read(node, fh: fh!, offset: 299_990, size: 100).body == Array(data[299_990...]))
        #expect(session.read(node, fh: fh!, offset: 10_000_000, size: 100).body.isEmpty)
        #expect(session.release(node, fh: fh!).ok)
        #expect(HostFiles.read(session.hostPath("data.bin")) == data)
    }

    @Test func readNeverExceedsTheRequestedSize() throws {
        HostFiles.write(session.hostPath("r"), [UInt8](repeating: 9, count: 10_000))
        let node = try #require(session.lookup("r").record(FuseEntryOut.self)).nodeID
        let fh = try #require(session.open(node, flags: LinuxOpenFlags.readOnly).record(FuseOpenOut.self)).fh
        #expect(session.read(node, fh: fh, offset: 0, size: 4096).body.count == 4096)
    }

    @Test func mkdirMknodSymlinkLinkUnlinkRmdir() throws {
        let dir = try #require(session.mkdir("d").record(FuseEntryOut.self))
        #expect(LinuxFileMode.isDirectory(dir.attr.mode))
        var mknod = RequestBytes()
        var mknodIn = FuseMknodIn()
        mknodIn.mode = LinuxFileMode.fifo | 0o600
        mknod.append(mknodIn)
        mknod.append(name: "fifo")
        let fifo = try #require(session.send(.mknod, node: dir.nodeID, body: mknod)?.record(FuseEntryOut.self))
        #expect(fifo.attr.mode & LinuxFileMode.typeMask == LinuxFileMode.fifo)

        var symlink = RequestBytes()
        symlink.append(name: "link")
        symlink.append(name: "../target/elsewhere")
        let link = try #require(session.send(.symlink, node: dir.nodeID, body: symlink)?.record(FuseEntryOut.self))
        #expect(LinuxFileMode.isSymlink(link.attr.mode))
        let target = try #require(session.send(.readlink, node: link.nodeID))
        #expect(String(decoding: target.body, as: UTF8.self) == "../target/elsewhere")

        let (_, file, fh) = session.create("f", in: dir.nodeID)
        _ = session.release(file!.nodeID, fh: fh!)
        var linkBody = RequestBytes()
        var linkIn = FuseLinkIn()
        linkIn.oldNodeID = file!.nodeID
        linkBody.append(linkIn)
        linkBody.append(name: "f2")
        let hard = try #require(session.send(.link, node: 1, body: linkBody)?.record(FuseEntryOut.self))
        #expect(hard.nodeID == file!.nodeID)
        #expect(hard.attr.nlink == 2)

        var rmdirBusy = RequestBytes()
        rmdirBusy.append(name: "d")
        #expect(session.send(.rmdir, body: rmdirBusy)?.error == Errno.ENOTEMPTY.rawValue)
        for name in ["fifo", "link", "f"] {
            var unlink = RequestBytes()
            unlink.append(name: name)
            #expect(session.send(.unlink, node: dir.nodeID, body: unlink)?.ok == true)
        }
        #expect(session.send(.rmdir, body: rmdirBusy)?.ok == true)
        #expect(!HostFiles.exists(session.hostPath("d")))
    }

    @Test func renameAndRename2Flags() throws {
        for name in ["a", "b"] { HostFiles.write(session.hostPath(name), name) }
        func rename2(_ from: String, _ to: String, _ flags: UInt32) -> Int32 {
            var body = RequestBytes()
            var renameIn = FuseRename2In()
            renameIn.newDir = 1
            renameIn.flags = flags
            body.append(renameIn)
            body.append(name: from)
            body.append(name: to)
            return session.send(.rename2, body: body)!.error
        }
        #expect(rename2("a", "b", FuseFlag.renameNoReplace) == Errno.EEXIST.rawValue)
        #expect(rename2("a", "b", FuseFlag.renameExchange) == 0)
        #expect(HostFiles.readText(session.hostPath("a")) == "b")
        var body = RequestBytes()
        var renameIn = FuseRenameIn()
        renameIn.newDir = 1
        body.append(renameIn)
        body.append(name: "a")
        body.append(name: "c")
        #expect(session.send(.rename, body: body)?.ok == true)
        #expect(HostFiles.readText(session.hostPath("c")) == "b")
    }

    @Test func setattrChangesModeOwnerSizeAndTimes() throws {
        let (_, entry, fh) = session.create("s")
        let node = entry!.nodeID
        _ = session.release(node, fh: fh!)
        var setattr = FuseSetattrIn()
        setattr.valid = FuseSetattrValid([.mode, .uid, .gid, .size, .atime, .mtime]).rawValue
        setattr.mode = 0o640
        setattr.uid = 1234
        setattr.gid = 5678
        setattr.size = 777
        setattr.atime = 981_173_106
        setattr.mtime = 946_684_798
        setattr.mtimensec = 5
        var body = RequestBytes()
        body.append(setattr)
        let attr = try #require(session.send(.setattr, node: node, body: body)?.record(FuseAttrOut.self)).attr
        #expect(attr.mode & 0o7777 == 0o640)
        #expect(attr.uid == 1234 && attr.gid == 5678)
        #expect(attr.size == 777)
        #expect(attr.atime == 981_173_106)
        #expect(attr.mtime == 946_684_798 && attr.mtimensec == 5)
    }

    @Test func createRunsAsTheCaller() throws {
        _ = session.mkdir("public", mode: 0o777)
        let publicDir = try #require(session.lookup("public").record(FuseEntryOut.self)).nodeID
        let (reply, entry, _) = session.create("mine", in: publicDir, uid: 1000, gid: 1001)
        #expect(reply.ok)
        #expect(entry?.attr.uid == 1000 && entry?.attr.gid == 1001)
        let dir = try #require(session.mkdir("sub", in: publicDir, uid: 1000).record(FuseEntryOut.self))
        #expect(dir.attr.uid == 1000)
        // The caller's permissions apply: uid 1000 cannot create in the root-owned 0755 root.
        chmod(session.directory, 0o755)
        #expect(session.create("denied", uid: 1000, gid: 1000).0.error == Errno.EACCES.rawValue)
    }

    @Test func readdirListsEveryEntryAcrossRequests() throws {
        for i in 0..<300 { HostFiles.write(session.hostPath("entry-\(i)"), []) }
        for plus in [false, true] {
            var opendir = RequestBytes()
            opendir.append(FuseOpenIn())
            let fh = try #require(session.send(.opendir, body: opendir)?.record(FuseOpenOut.self)).fh
            var names: [String] = []
            var offset: UInt64 = 0
            var requests = 0
            while true {
                var body = RequestBytes()
                var readIn = FuseReadIn()
                readIn.fh = fh
                readIn.offset = offset
                readIn.size = 4096
                body.append(readIn)
                let reply = try #require(session.send(plus ? .readdirplus : .readdir, body: body))
                #expect(reply.ok)
                #expect(reply.body.count <= 4096)
                let entries = FuseTestSession.direntNames(reply.body, plus: plus)
                if entries.isEmpty { break }
                names += entries.map(\.name)
                if plus {
                    for entry in entries where entry.name.hasPrefix("entry-") { #expect(entry.node > 1) }
                }
                offset = entries.last!.off
                requests += 1
            }
            #expect(requests > 1)
            #expect(names.count == 302)
            #expect(Set(names) == Set((0..<300).map { "entry-\($0)" } + [".", ".."]))
            #expect(session.release(1, fh: fh, opcode: .releasedir).ok)
        }
    }

    @Test func statfsAccessFsyncFlushFallocateLseekCopyFileRange() throws {
        let statfs = try #require(session.send(.statfs)?.record(FuseStatfsOut.self))
        #expect(statfs.st.blocks > 0 && statfs.st.bsize > 0 && statfs.st.namelen == 255)
        var access = RequestBytes()
        var accessIn = FuseAccessIn()
        accessIn.mask = 4 // R_OK
        access.append(accessIn)
        #expect(session.send(.access, body: access)?.ok == true)

        let (_, entry, fh) = session.create("io")
        let node = entry!.nodeID
        _ = session.write(node, fh: fh!, offset: 0, data: Array(repeating: 0x5A, count: 8192))
        var fsync = RequestBytes()
        var fsyncIn = FuseFsyncIn()
        fsyncIn.fh = fh!
        fsync.append(fsyncIn)
        #expect(session.send(.fsync, node: node, body: fsync)?.ok == true)
        var flush = RequestBytes()
        var flushIn = FuseFlushIn()
        flushIn.fh = fh!
        flush.append(flushIn)
        #expect(session.send(.flush, node: node, body: flush)?.ok == true)

        var fallocate = RequestBytes()
        var fallocateIn = FuseFallocateIn()
        fallocateIn.fh = fh!
        fallocateIn.offset = 0
        fallocateIn.length = 1 << 20
        fallocate.append(fallocateIn)
        #expect(session.send(.fallocate, node: node, body: fallocate)?.ok == true)
        #expect(session.getattr(node).record(FuseAttrOut.self)?.attr.size == 1 << 20)

        var lseek = RequestBytes()
        var lseekIn = FuseLseekIn()
        lseekIn.fh = fh!
        lseekIn.whence = LinuxSeekWhence.data
        lseek.append(lseekIn)
        #expect(session.send(.lseek, node: node, body: lseek)?.record(FuseLseekOut.self)?.offset == 0)

        let (_, copyEntry, copyFH) = session.create("copy")
        var copy = RequestBytes()
        var copyIn = FuseCopyFileRangeIn()
        copyIn.fhIn = fh!
        copyIn.nodeIDOut = copyEntry!.nodeID
        copyIn.fhOut = copyFH!
        copyIn.len = 8192
        copy.append(copyIn)
        #expect(session.send(.copyFileRange, node: node, body: copy)?.record(FuseWriteOut.self)?.size == 8192)
        #expect(session.read(copyEntry!.nodeID, fh: copyFH!, offset: 0, size: 8192).body == Array(repeating: 0x5A, count: 8192))

        var syncfs = RequestBytes()
        syncfs.append(FuseSyncfsIn())
        #expect(session.send(.syncfs, body: syncfs)?.ok == true)
    }

    @Test func extendedAttributes() throws {
        let (_, entry, fh) = session.create("x")
        let node = entry!.nodeID
        _ = session.release(node, fh: fh!)
        var set = RequestBytes()
        var setIn = FuseSetxattrIn()
        setIn.size = 5
        withUnsafeBytes(of: setIn) { set.append(raw: Array($0.prefix(FuseCompatSize.setxattrIn))) }
        set.append(name: "user.swiftfs")
        set.append(raw: Array("value".utf8))
        #expect(session.send(.setxattr, node: node, body: set)?.ok == true)

        func get(_ size: UInt32) -> Reply {
            var body = RequestBytes()
            var getIn = FuseGetxattrIn()
            getIn.size = size
            body.append(getIn)
            body.append(name: "user.swiftfs")
            return session.send(.getxattr, node: node, body: body)!
        }
        #expect(get(0).record(FuseGetxattrOut.self)?.size == 5)
        #expect(String(decoding: get(100).body, as: UTF8.self) == "value")
        #expect(get(2).error == Errno.ERANGE.rawValue)

        var list = RequestBytes()
        var listIn = FuseGetxattrIn()
        listIn.size = 1000
        list.append(listIn)
        let names = try #require(session.send(.listxattr, node: node, body: list))
        #expect(String(decoding: names.body, as: UTF8.self).split(separator: "\0").contains("user.swiftfs"))

        var remove = RequestBytes()
        remove.append(name: "user.swiftfs")
        #expect(session.send(.removexattr, node: node, body: remove)?.ok == true)
        #expect(get(0).error == Errno.ENODATA.rawValue)
    }

    @Test func xattrOffIsENOSYS() throws {
        let session = try FuseTestSession(xattr: false)
        var body = RequestBytes()
        body.append(FuseGetxattrIn())
        body.append(name: "user.a")
        #expect(session.send(.getxattr, body: body)?.error == Errno.ENOSYS.rawValue)
    }

    @Test func posixLocksConflictBetweenOwnersAndGetlkNamesTheHolder() throws {
        let (_, entry, fh) = session.create("locked")
        let node = entry!.nodeID
        func lk(_ opcode: FuseOpcode, owner: UInt64, type: UInt32, start: UInt64, end: UInt64, pid: UInt32) -> Reply {
            var body = RequestBytes()
            var lkIn = FuseLkIn()
            lkIn.fh = fh!
            lkIn.owner = owner
            lkIn.lock.type = type
            lkIn.lock.start = start
            lkIn.lock.end = end
            lkIn.lock.pid = pid
            body.append(lkIn)
            return session.send(opcode, node: node, body: body)!
        }
        #expect(lk(.setlk, owner: 1, type: LinuxLockType.write, start: 0, end: 99, pid: 100).ok)
        #expect(lk(.setlk, owner: 2, type: LinuxLockType.read, start: 50, end: 59, pid: 200).error == Errno.EAGAIN.rawValue)
        let held = try #require(lk(.getlk, owner: 2, type: LinuxLockType.read, start: 50, end: 59, pid: 200).record(FuseLkOut.self))
        #expect(held.lock.type == LinuxLockType.write && held.lock.pid == 100 && held.lock.start == 0 && held.lock.end == 99)
        // The owner's own GETLK sees no conflict.
        #expect(lk(.getlk, owner: 1, type: LinuxLockType.write, start: 0, end: 99, pid: 100).record(FuseLkOut.self)?.lock.type == LinuxLockType.unlock)
        #expect(lk(.setlk, owner: 2, type: LinuxLockType.write, start: 100, end: 149, pid: 200).ok)
        #expect(lk(.setlk, owner: 1, type: LinuxLockType.unlock, start: 0, end: 0x7fff_ffff_ffff_ffff, pid: 0).ok)
        #expect(lk(.setlk, owner: 2, type: LinuxLockType.read, start: 50, end: 59, pid: 200).ok)
        // A bogus lock type.
        #expect(lk(.setlk, owner: 3, type: 7, start: 0, end: 1, pid: 1).error == Errno.EINVAL.rawValue)
    }

    @Test func readOnlyShareRefusesChangesButServesReads() throws {
        let session = try FuseTestSession(readOnly: true)
        HostFiles.write(session.hostPath("file"), "ro")
        let node = try #require(session.lookup("file").record(FuseEntryOut.self)).nodeID
        #expect(session.mkdir("d").error == Errno.EROFS.rawValue)
        #expect(session.create("c").0.error == Errno.EROFS.rawValue)
        #expect(session.open(node, flags: LinuxOpenFlags.writeOnly).error == Errno.EROFS.rawValue)
        #expect(session.open(node, flags: LinuxOpenFlags.readOnly | LinuxOpenFlags.truncate).error == Errno.EROFS.rawValue)
        let fh = try #require(session.open(node, flags: LinuxOpenFlags.readOnly).record(FuseOpenOut.self)).fh
        #expect(session.read(node, fh: fh, offset: 0, size: 10).body == Array("ro".utf8))
        var unlink = RequestBytes()
        unlink.append(name: "file")
        #expect(session.send(.unlink, body: unlink)?.error == Errno.EROFS.rawValue)
    }

    @Test func cacheNeverAsksForDirectIOAndNoTimeouts() throws {
        let session = try FuseTestSession(cache: .never)
        let (_, entry, _) = session.create("n")
        #expect(entry?.entryValid == 0 && entry?.attrValid == 0)
        let open = try #require(session.open(entry!.nodeID).record(FuseOpenOut.self))
        #expect(FuseOpenOutFlags(rawValue: open.openFlags).contains(.directIO))
    }

    /// OPEN and CREATE answer with the same flags: DIRECT_IO with
    /// PARALLEL_DIRECT_WRITES when file data is not cached, none of them otherwise.
    @Test func openAndCreateReplyFlagsFollowTheCacheMode() throws {
        let direct: FuseOpenOutFlags = [.directIO, .parallelDirectWrites]
        for (cache, flags) in [(CachePolicy.never, direct), (.metadata, direct), (.auto, []), (.always, .keepCache)] {
            let session = try FuseTestSession(cache: cache)
            let (reply, entry, _) = session.create("f")
            let created = try #require(reply.record(FuseOpenOut.self, at: FuseEntryOut.wireSize))
            #expect(FuseOpenOutFlags(rawValue: created.openFlags) == flags, "CREATE, cache=\(cache)")
            let node = try #require(entry).nodeID
            let opened = try #require(session.open(node).record(FuseOpenOut.self))
            #expect(FuseOpenOutFlags(rawValue: opened.openFlags) == flags, "OPEN, cache=\(cache)")
        }
    }
}
