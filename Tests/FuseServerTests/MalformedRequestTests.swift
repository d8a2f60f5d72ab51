import FuseServer
import SwiftFSProtocol
import TestSupport
import Testing

/// Every malformed request gets an error reply (or none, for FORGET) and the
/// server keeps serving: a valid request afterwards succeeds.
@Suite struct MalformedRequestTests {
    let session: FuseTestSession
    init() throws { session = try FuseTestSession() }

    private func stillServing() {
        #expect(session.getattr(1).ok)
    }

    @Test func truncatedHeaderGetsEIO() {
        for size in [0, 1, 8, 39] {
            let reply = session.sendRaw([UInt8](repeating: 0xAB, count: size))
            #expect(reply?.error == Errno.EIO.rawValue)
            #expect(reply?.header.unique == 0)
        }
        stillServing()
    }

    @Test func lengthBeyondTheBytesIsEINVAL() {
        var body = RequestBytes()
        body.append(name: "x")
        let reply = session.send(FuseOpcode.lookup.rawValue, body: body, lengthOverride: 4096)
        #expect(reply?.error == Errno.EINVAL.rawValue)
        stillServing()
    }

    @Test func lengthBelowTheHeaderIsEINVAL() {
        let reply = session.send(FuseOpcode.getattr.rawValue, lengthOverride: 10)
        #expect(reply?.error == Errno.EINVAL.rawValue)
        stillServing()
    }

    @Test func bytesBeyondTheLengthAreIgnored() throws {
        HostFiles.write(session.hostPath("file"), "data")
        // len covers "file\0" but the buffer continues with garbage (a '/' and no NUL).
        var body = RequestBytes()
        body.append(name: "file")
        body.append(raw: Array("/../etc".utf8))
        let reply = session.send(FuseOpcode.lookup.rawValue, body: body,
                                 lengthOverride: UInt32(FuseInHeader.wireSize + 5))
        #expect(reply?.ok == true)
        // And a length that cuts the name's NUL off is caught.
        let cut = session.send(FuseOpcode.lookup.rawValue, body: body,
                               lengthOverride: UInt32(FuseInHeader.wireSize + 4))
        #expect(cut?.error == Errno.EINVAL.rawValue)
    }

    @Test func unknownOpcodesAreENOSYS() {
        for opcode: UInt32 in [0, 7, 19, 52, 4096, UInt32.max] {
            #expect(session.send(opcode)?.error == Errno.ENOSYS.rawValue)
        }
        for opcode: FuseOpcode in [.bmap, .ioctl, .poll, .setupMapping, .removeMapping, .tmpfile] {
            #expect(session.send(opcode, body: { var b = RequestBytes(); b.append(raw: [UInt8](repeating: 0, count: 64)); return b }())?.error == Errno.ENOSYS.rawValue)
        }
        stillServing()
    }

    @Test func nodeIdsNeverIssuedAreEBADF() {
        for node: UInt64 in [0, 2, 999, UInt64.max] {
            #expect(session.getattr(node).error == Errno.EBADF.rawValue)
            #expect(session.lookup("x", in: node).error == Errno.EBADF.rawValue)
            #expect(session.mkdir("d", in: node).error == Errno.EBADF.rawValue)
            #expect(session.open(node).error == Errno.EBADF.rawValue)
        }
        stillServing()
    }

    @Test func handlesNeverOpenedAreEBADF() {
        #expect(session.read(1, fh: 12345, offset: 0, size: 100).error == Errno.EBADF.rawValue)
        #expect(session.write(1, fh: 12345, offset: 0, data: [1, 2, 3]).error == Errno.EBADF.rawValue)
        #expect(session.release(1, fh: 12345).error == Errno.EBADF.rawValue)
        #expect(session.read(1, fh: 12345, offset: 0, size: 4096, opcode: .readdir).error == Errno.EBADF.rawValue)
        #expect(session.release(1, fh: 12345, opcode: .releasedir).error == Errno.EBADF.rawValue)
        var fsync = RequestBytes()
        fsync.append(FuseFsyncIn())
        #expect(session.send(.fsync, body: fsync)?.error == Errno.EBADF.rawValue)
        stillServing()
    }

    @Test func badNamesAreEINVAL() {
        for name in ["a/b", "/", "..", ".", "", "x/.."] {
            #expect(session.mkdir(name).error == Errno.EINVAL.rawValue, "mkdir \(name)")
        }
        // LOOKUP accepts "." and ".." but nothing with a slash or empty.
        #expect(session.lookup("a/b").error == Errno.EINVAL.rawValue)
        #expect(session.lookup("").error == Errno.EINVAL.rawValue)
        #expect(session.lookup(String(repeating: "n", count: 256)).error == Errno.ENAMETOOLONG.rawValue)
        stillServing()
    }

    @Test func nameWithoutNULIsEINVAL() {
        var body = RequestBytes()
        body.append(raw: Array("noterminator".utf8))
        #expect(session.send(.lookup, body: body)?.error == Errno.EINVAL.rawValue)
        var mkdir = RequestBytes()
        mkdir.append(FuseMkdirIn())
        mkdir.append(raw: Array("dir".utf8))
        #expect(session.send(.mkdir, body: mkdir)?.error == Errno.EINVAL.rawValue)
        // RENAME with only one of its two names.
        var rename = RequestBytes()
        rename.append(FuseRenameIn())
        rename.append(name: "a")
        #expect(session.send(.rename, body: rename)?.error == Errno.EINVAL.rawValue)
        stillServing()
    }

    @Test func truncatedArgumentRecordsAreEINVAL() {
        for opcode: FuseOpcode in [.getattr, .setattr, .open, .read, .write, .release, .fsync, .mkdir, .mknod, .create,
                                   .rename2, .link, .getlk, .setlk, .fallocate, .lseek, .copyFileRange, .access] {
            var body = RequestBytes()
            body.append(raw: [1, 2, 3])
            #expect(session.send(opcode, body: body)?.error == Errno.EINVAL.rawValue, "\(opcode)")
        }
        stillServing()
    }

    @Test func writeLongerThanItsDataIsEINVAL() throws {
        let (_, entry, fh) = session.create("w")
        var body = RequestBytes()
        var writeIn = FuseWriteIn()
        writeIn.fh = try #require(fh)
        writeIn.size = 1000
        body.append(writeIn)
        body.append(raw: [1, 2, 3])
        #expect(session.send(.write, node: entry!.nodeID, body: body)?.error == Errno.EINVAL.rawValue)
        stillServing()
    }

    @Test func forgetOfMoreLookupsThanGivenIsClampedAndSilent() throws {
        let (_, entry, fh) = session.create("f")
        let node = try #require(entry).nodeID
        #expect(session.release(node, fh: fh!).ok)
        #expect(session.lookup("f").ok) // 2 lookups now
        #expect(session.forget(node, count: 1_000_000) == nil)
        #expect(session.getattr(node).error == Errno.EBADF.rawValue) // gone, not negative
        #expect(session.forget(node, count: 1) == nil) // forgetting a forgotten node
        #expect(session.forget(999_999, count: 1) == nil)
        #expect(session.forget(1, count: UInt64.max) == nil) // the root stays
        #expect(session.lookup("f").ok)
        stillServing()
    }

    @Test func truncatedBatchForgetForgetsWhatArrived() throws {
        let (_, entry, fh) = session.create("b")
        let node = try #require(entry).nodeID
        _ = session.release(node, fh: fh!)
        var body = RequestBytes()
        var batch = FuseBatchForgetIn()
        batch.count = 1000 // claims far more than it carries
        body.append(batch)
        var one = FuseForgetOne()
        one.nodeID = node
        one.nlookup = 1
        body.append(one)
        body.append(raw: [0, 0, 0])
        #expect(session.send(.batchForget, body: body) == nil)
        #expect(session.getattr(node).error == Errno.EBADF.rawValue)
        stillServing()
    }

    @Test func replyBufferTooSmallForTheHeaderDropsTheRequest() {
        #expect(session.send(FuseOpcode.getattr.rawValue, body: { var b = RequestBytes(); b.append(FuseGetattrIn()); return b }(),
                             replyCapacity: 8) == nil)
        // Too small for the body: an error reply that fits.
        let reply = session.send(FuseOpcode.getattr.rawValue, body: { var b = RequestBytes(); b.append(FuseGetattrIn()); return b }(),
                                 replyCapacity: 20)
        #expect(reply?.error == Errno.ERANGE.rawValue)
        stillServing()
    }

    @Test func renameWithUnknownFlagsIsEINVAL() throws {
        HostFiles.write(session.hostPath("r"), "x")
        var body = RequestBytes()
        var renameIn = FuseRename2In()
        renameIn.newDir = 1
        renameIn.flags = 1 << 7
        body.append(renameIn)
        body.append(name: "r")
        body.append(name: "s")
        #expect(session.send(.rename2, body: body)?.error == Errno.EINVAL.rawValue)
        stillServing()
    }

    @Test func interruptAndNotifyReplyGetNoReply() {
        var body = RequestBytes()
        body.append(FuseInterruptIn())
        #expect(session.send(.interrupt, body: body) == nil)
        #expect(session.send(.notifyReply) == nil)
        stillServing()
    }
}
