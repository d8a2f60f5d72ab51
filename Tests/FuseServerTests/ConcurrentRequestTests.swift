import FuseServer
import Glibc
import Passthrough
import Synchronization
import SwiftFSProtocol
import SystemSupport
import Testing

/// Transports call the server from many threads at once.
@Suite struct ConcurrentRequestTests {
    @Test func manyThreadsCreateWriteReadAndForgetTheirOwnFiles() throws {
        let session = try FuseTestSession()
        let server = session.server
        let failures = Atomic<Int>(0)
        let threads = 6
        NativeThread.runAll(count: threads) { index in
            let replyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
            defer { replyBuffer.deallocate() }
            var unique = UInt64(index) << 32
            func call(_ opcode: FuseOpcode, node: UInt64 = 1, _ body: RequestBytes) -> Reply? {
                unique += 1
                var header = FuseInHeader()
                header.len = UInt32(FuseInHeader.wireSize + body.bytes.count)
                header.opcode = opcode.rawValue
                header.unique = unique
                header.nodeID = node
                var request = RequestBytes()
                request.append(header)
                request.append(raw: body.bytes)
                return FuseTestSession.exchange(server: server, request.bytes, replyBuffer: replyBuffer)
            }
            for round in 0..<100 {
                var create = RequestBytes()
                var createIn = FuseCreateIn()
                createIn.flags = LinuxOpenFlags.readWrite | LinuxOpenFlags.create
                createIn.mode = LinuxFileMode.regular | 0o644
                create.append(createIn)
                create.append(name: "t\(index)-\(round % 10)")
                guard let created = call(.create, create), created.ok,
                      let entry = created.record(FuseEntryOut.self),
                      let open = created.record(FuseOpenOut.self, at: FuseEntryOut.wireSize) else {
                    failures.add(1, ordering: .relaxed); continue
                }
                let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: index * 7 + round), count: 3000)
                var write = RequestBytes()
                var writeIn = FuseWriteIn()
                writeIn.fh = open.fh
                writeIn.size = UInt32(payload.count)
                write.append(writeIn)
                write.append(raw: payload)
                var read = RequestBytes()
                var readIn = FuseReadIn()
                readIn.fh = open.fh
                readIn.size = 3000
                read.append(readIn)
                var release = RequestBytes()
                var releaseIn = FuseReleaseIn()
                releaseIn.fh = open.fh
                release.append(releaseIn)
                var forget = RequestBytes()
                var forgetIn = FuseForgetIn()
                forgetIn.nlookup = 1
                forget.append(forgetIn)
                let ok = call(.write, node: entry.nodeID, write)?.ok == true
                    && call(.read, node: entry.nodeID, read)?.body == payload
                    && call(.release, node: entry.nodeID, release)?.ok == true
                    && call(.forget, node: entry.nodeID, forget) == nil
                if !ok { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        // Every lookup was forgotten again: only the root is left.
        #expect(session.server.fileSystem.openNodeCount == 0)
    }

    @Test func setlkwWaitsBoundedlyAndFsyncdirWorks() throws {
        let session = try FuseTestSession() // lock waits are limited to 2 s
        let (_, entry, fh) = session.create("l")
        func lk(_ opcode: FuseOpcode, owner: UInt64) -> Reply {
            var body = RequestBytes()
            var lkIn = FuseLkIn()
            lkIn.fh = fh!
            lkIn.owner = owner
            lkIn.lock.type = LinuxLockType.write
            lkIn.lock.end = 10
            body.append(lkIn)
            return session.send(opcode, node: entry!.nodeID, body: body)!
        }
        #expect(lk(.setlkw, owner: 1).ok)
        let start = ContinuousClock.now
        #expect(lk(.setlkw, owner: 2).error == Errno.EINTR.rawValue)
        #expect(ContinuousClock.now - start >= .seconds(1))

        var opendir = RequestBytes()
        opendir.append(FuseOpenIn())
        let dirFH = try #require(session.send(.opendir, body: opendir)?.record(FuseOpenOut.self)).fh
        var fsync = RequestBytes()
        var fsyncIn = FuseFsyncIn()
        fsyncIn.fh = dirFH
        fsync.append(fsyncIn)
        #expect(session.send(.fsyncdir, body: fsync)?.ok == true)
    }
}
