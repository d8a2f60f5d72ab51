// Each POSIX-like call of the guest, through the guest's FUSE client and the real
// server, checked against the host directory.

import Foundation
import Glibc
@testable import GuestFileSystem
@testable import Passthrough
import Testing

extension GuestClient {
    @Suite struct PosixCalls {
        let share: MountedShare
        init() throws { share = try MountedShare() }

        @Test func createWriteAndReadBackSpanningSeveralRequests() throws {
            // 300 KB: several WRITEs and READs of at most 128 KiB each.
            let data = pattern(300_000)
            let fd = try Posix.open(share.guest("new.bin"), [.readWrite, .create, .exclusive], permissions: 0o640)
            try data.withUnsafeBytes { raw in try Posix.writeAll(fd, raw) }
            #expect(try Posix.lseek(fd, 0, .start) == 0)
            #expect(try readToEnd(fd) == data)
            try Posix.close(fd)

            #expect(hostBytes(share.host("new.bin")) == data)
            let attributes = try #require(hostStat(share.host("new.bin")))
            #expect(attributes.st_mode & 0o7777 == 0o640)
            #expect(attributes.st_mode & S_IFMT == S_IFREG)
            #expect(try Posix.readFile(share.guest("new.bin")) == data)
        }

        @Test func readsWhatTheHostWrote() throws {
            let data = pattern(70_000, seed: 7)
            writeHostFile(share.host("from-host"), data)
            #expect(try Posix.readFile(share.guest("from-host")) == data)
        }

        @Test func lseekAndPositionalReadsAndWrites() throws {
            writeHostFile(share.host("digits"), Array("0123456789".utf8))
            let fd = try Posix.open(share.guest("digits"), .readWrite)
            defer { try? Posix.close(fd) }
            var three = [UInt8](repeating: 0, count: 3)
            #expect(try Posix.lseek(fd, 4, .start) == 4)
            #expect(try Posix.read(fd, into: &three) == 3)
            #expect(three == Array("456".utf8))
            #expect(try Posix.lseek(fd, 0, .current) == 7)
            #expect(try Posix.lseek(fd, -2, .end) == 8)

            // pwrite and pread leave the file offset alone.
            #expect(try Posix.pwrite(fd, Array("AB".utf8), at: 2) == 2)
            var all = [UInt8](repeating: 0, count: 16)
            #expect(try Posix.pread(fd, into: &all, at: 0) == 10)
            #expect(Array(all[0..<10]) == Array("01AB456789".utf8))
            #expect(try Posix.lseek(fd, 0, .current) == 8)
            #expect(try Posix.write(fd, "xyz") == 3)   // at 8: overwrites "89", extends by one
            try Posix.fsync(fd)
            #expect(hostBytes(share.host("digits")) == Array("01AB4567xyz".utf8))
            #expect(failure { try Posix.lseek(fd, -1, .start) } == .EINVAL)
        }

        @Test func seekDataAndHoleAskTheServer() throws {
            // A 3 MiB sparse file with data only in its last MiB.
            let path = share.host("sparse")
            let hostFD = open(path, O_CREAT | O_WRONLY, 0o644)
            try #require(hostFD >= 0)
            let tail = pattern(1 << 20)
            #expect(tail.withUnsafeBytes { pwrite(hostFD, $0.baseAddress, $0.count, 2 << 20) } == 1 << 20)
            close(hostFD)

            let fd = try Posix.open(share.guest("sparse"), .readOnly)
            defer { try? Posix.close(fd) }
            let data = try Posix.lseek(fd, 0, .data)
            #expect(data > 0 && data <= 2 << 20, "SEEK_DATA found \(data)")
            #expect(try Posix.lseek(fd, 2 << 20, .hole) == 3 << 20)
            #expect(failure { try Posix.lseek(fd, 3 << 20, .data) } == .ENXIO)
        }

        @Test func statReportsTheHostsAttributes() throws {
            writeHostFile(share.host("f"), pattern(12_345))
            chmod(share.host("f"), 0o604)
            var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 5), timespec(tv_sec: 1_234_567_890, tv_nsec: 678)]
            #expect(utimensat(AT_FDCWD, share.host("f"), &times, 0) == 0)
            link(share.host("f"), share.host("f-link"))
            let host = try #require(hostStat(share.host("f")))

            let guest = try Posix.stat(share.guest("f"))
            #expect(guest.kind == .regular)
            #expect(guest.size == 12_345)
            #expect(guest.permissions == 0o604)
            #expect(guest.inode == UInt64(host.st_ino))
            #expect(guest.linkCount == 2)
            #expect(guest.blocks == UInt64(host.st_blocks))
            #expect(guest.accessTime == FileTime(seconds: 1_000_000_000, nanoseconds: 5))
            #expect(guest.modificationTime == FileTime(seconds: 1_234_567_890, nanoseconds: 678))

            let fd = try Posix.open(share.guest("f"), .readOnly)
            #expect(try Posix.fstat(fd).inode == guest.inode)
            try Posix.close(fd)

            mkdir(share.host("d"), 0o711)
            let directory = try Posix.stat(share.guest("d"))
            #expect(directory.kind == .directory)
            #expect(directory.permissions == 0o711)
            #expect(directory.inode == UInt64(try #require(hostStat(share.host("d"))).st_ino))
        }

        @Test func mkdirAndRmdir() throws {
            try Posix.mkdir(share.guest("dir"), permissions: 0o750)
            try Posix.mkdir(share.guest("dir/inner"))
            let made = try #require(hostStat(share.host("dir")))
            #expect(made.st_mode & S_IFMT == S_IFDIR)
            #expect(made.st_mode & 0o7777 == 0o750)
            #expect((hostStat(share.host("dir/inner"))?.st_mode ?? 0) & S_IFMT == S_IFDIR)

            try Posix.rmdir(share.guest("dir/inner"))
            try Posix.rmdir(share.guest("dir"))
            #expect(!hostExists(share.host("dir")))
            #expect(failure { try Posix.stat(share.guest("dir")) } == .ENOENT)
        }

        @Test(arguments: [true, false])
        func readdirListsManyEntriesOverSeveralBatches(readdirplus: Bool) throws {
            let share = try MountedShare(readdirplus: readdirplus)
            // 1000 entries with long names: several 64 KiB READDIR(PLUS) replies.
            var expected: Set<String> = [".", "..", "subdirectory"]
            mkdir(share.host("subdirectory"), 0o755)
            for index in 0..<1000 {
                let name = "entry-\(index)-" + String(repeating: "n", count: 40)
                writeHostFile(share.host(name), [UInt8(index & 0xff)])
                expected.insert(name)
            }
            let opcode: FuseOpcode = readdirplus ? .readdirplus : .readdir
            let before = share.fileSystem.session.requestCount(opcode)

            let directory = try Posix.opendir(share.guest(""))
            var names: [String] = []
            var kinds: [String: FileKind] = [:]
            while let entry = try Posix.readdir(directory) {
                names.append(entry.name)
                kinds[entry.name] = entry.kind
            }
            try Posix.closedir(directory)

            #expect(names.count == expected.count, "no entry twice")
            #expect(Set(names) == expected)
            #expect(kinds["subdirectory"] == .directory)
            #expect(kinds["entry-7-" + String(repeating: "n", count: 40)] == .regular)
            let batches = share.fileSystem.session.requestCount(opcode) - before
            #expect(batches >= 3, "\(batches) \(opcode) requests (the last one returns nothing)")
            #expect(share.fileSystem.session.usesReaddirPlus == readdirplus)
        }

        @Test func renameMovesAndReplaces() throws {
            try Posix.writeFile(share.guest("a"), Array("first".utf8))
            try Posix.mkdir(share.guest("sub"))
            try Posix.rename(share.guest("a"), share.guest("sub/b"))
            #expect(!hostExists(share.host("a")))
            #expect(hostBytes(share.host("sub/b")) == Array("first".utf8))

            // Onto an existing name: replaced.
            writeHostFile(share.host("c"), Array("second".utf8))
            try Posix.rename(share.guest("c"), share.guest("sub/b"))
            #expect(hostBytes(share.host("sub/b")) == Array("second".utf8))
            #expect(!hostExists(share.host("c")))
            #expect(try Posix.readFile(share.guest("sub/b")) == Array("second".utf8))
            #expect(failure { try Posix.stat(share.guest("c")) } == .ENOENT)

            // A directory, with its contents.
            try Posix.rename(share.guest("sub"), share.guest("moved"))
            #expect(hostBytes(share.host("moved/b")) == Array("second".utf8))
        }

        @Test func unlinkRemovesTheHostFile() throws {
            writeHostFile(share.host("victim"), [1, 2, 3])
            #expect(try Posix.stat(share.guest("victim")).size == 3)
            try Posix.unlink(share.guest("victim"))
            #expect(!hostExists(share.host("victim")))
            #expect(failure { try Posix.stat(share.guest("victim")) } == .ENOENT)

            // An open file stays readable after unlink, as on Linux.
            try Posix.writeFile(share.guest("open"), [9, 8, 7])
            let fd = try Posix.open(share.guest("open"), .readOnly)
            try Posix.unlink(share.guest("open"))
            #expect(!hostExists(share.host("open")))
            #expect(try readToEnd(fd) == [9, 8, 7])
            try Posix.close(fd)
        }

        @Test func truncateShrinksAndExtends() throws {
            writeHostFile(share.host("t"), pattern(10_000))
            try Posix.truncate(share.guest("t"), 3)
            #expect(hostBytes(share.host("t")) == Array(pattern(3)))
            #expect(try Posix.stat(share.guest("t")).size == 3)

            let fd = try Posix.open(share.guest("t"), .readWrite)
            try Posix.ftruncate(fd, 5000)
            #expect(try Posix.fstat(fd).size == 5000)
            try Posix.close(fd)
            #expect(hostBytes(share.host("t")) == pattern(3) + [UInt8](repeating: 0, count: 4997))

            // O_TRUNC on open.
            let again = try Posix.open(share.guest("t"), [.writeOnly, .truncate])
            try Posix.close(again)
            #expect(hostStat(share.host("t"))?.st_size == 0)
        }

        @Test func fsyncSendsTheWritesTheClientGathered() throws {
            let fd = try Posix.open(share.guest("gathered"), [.writeOnly, .create])
            defer { try? Posix.close(fd) }
            for _ in 0..<10 { _ = try Posix.write(fd, "0123456789") }
            // Small sequential writes wait in the client's write-behind buffer...
            #expect(hostStat(share.host("gathered"))?.st_size == 0)
            try Posix.fsync(fd)
            // ...and fsync sends them.
            #expect(hostBytes(share.host("gathered")) == Array(String(repeating: "0123456789", count: 10).utf8))
        }

        @Test func writesWithoutDataCachingReachTheHostAtOnce() throws {
            let share = try MountedShare(dataCaching: false)
            let fd = try Posix.open(share.guest("direct"), [.writeOnly, .create])
            _ = try Posix.write(fd, "abc")
            #expect(hostBytes(share.host("direct")) == Array("abc".utf8))
            try Posix.close(fd)
        }

        @Test func appendWritesAtTheHostsEndOfFile() throws {
            writeHostFile(share.host("log"), Array("one\n".utf8))
            let fd = try Posix.open(share.guest("log"), [.writeOnly, .append])
            _ = try Posix.write(fd, "two\n")
            try Posix.close(fd)
            #expect(hostBytes(share.host("log")) == Array("one\ntwo\n".utf8))
        }

        @Test func forgetsGiveTheServersInodesBack() throws {
            let inodes = share.transport.server.fileSystem.inodes
            let before = inodes.count
            for index in 0..<100 { writeHostFile(share.host("f\(index)"), []) }
            for index in 0..<100 { _ = try Posix.stat(share.guest("f\(index)")) }
            #expect(inodes.count == before + 100)
            // Dropping the client's caches sends the lookups back (BATCH_FORGET, high-priority queue).
            try Posix.dropCaches()
            #expect(inodes.count == before)
        }

        @Test func statfsReportsTheHostFileSystem() throws {
            var host = statvfs()
            try #require(statvfs(share.hostDirectory, &host) == 0)
            let guest = try Posix.statfs(share.guest(""))
            #expect(guest.blockSize == UInt32(host.f_bsize))
            #expect(guest.totalBlocks == UInt64(host.f_blocks))
            #expect(guest.totalFiles == UInt64(host.f_files))
            #expect(guest.maxNameLength == UInt32(host.f_namemax))
            #expect(guest.availableBlocks <= guest.freeBlocks && guest.freeBlocks <= guest.totalBlocks)
        }

        @Test func chmodAndTimesReachTheHost() throws {
            writeHostFile(share.host("m"), [])
            try Posix.chmod(share.guest("m"), 0o600)
            try Posix.setTimes(share.guest("m"), access: nil, modification: FileTime(seconds: 1_500_000_000, nanoseconds: 42))
            let host = try #require(hostStat(share.host("m")))
            #expect(host.st_mode & 0o7777 == 0o600)
            #expect(host.st_mtim.tv_sec == 1_500_000_000 && host.st_mtim.tv_nsec == 42)
        }
    }
}
