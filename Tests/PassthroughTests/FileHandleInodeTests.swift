@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Synchronization
import SystemSupport
import Testing

/// Inodes named by kernel file handles: the share keeps working with far
/// more inodes than descriptors the cache may keep open (tests run as root,
/// which has the CAP_DAC_READ_SEARCH that open_by_handle_at needs).
@Suite struct FileHandleInodeTests {
    static func fixture(cacheSize: Int = 8, mode: InodeFileHandleMode = .prefer) throws -> PassthroughFixture {
        try PassthroughFixture { options in
            options.inodeFileHandles = mode
            options.inodeDescriptorCache = cacheSize
        }
    }

    static func cache(_ t: PassthroughFixture) -> DescriptorCache? { t.fs.inodes.handles.resolver?.cache }

    @Test func manyMoreInodesThanCachedDescriptorsAllStayUsable() throws {
        let t = try Self.fixture(cacheSize: 8)
        let dir = try t.mkdir("d")
        var nodes: [NodeID] = []
        for i in 0..<200 {
            let (entry, handle) = try t.create("f\(i)", in: dir.node)
            _ = try t.write(entry.node, handle, Array("content \(i)".utf8))
            try t.fs.release(t.root, node: entry.node, handle: handle, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
            nodes.append(entry.node)
        }
        #expect(try t.fs.inodes.inode(nodes[0]).usesFileHandle)
        #expect(Self.cache(t)!.openCount <= 8)
        // Every node answers, in an order that defeats the cache: attributes, a lookup, a read.
        for (i, node) in nodes.enumerated().reversed() {
            #expect(try t.fs.getattr(t.root, node: node, handle: nil).attr.size == UInt64("content \(i)".utf8.count))
            #expect(try t.lookup("f\(i)", in: dir.node).node == node)
            let opened = try t.fs.open(t.root, node: node, flags: OpenFlags(LinuxOpenFlags.readOnly))
            #expect(try t.read(node, opened.handle, size: 64) == Array("content \(i)".utf8))
            try t.fs.release(t.root, node: node, handle: opened.handle, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
        }
        #expect(Self.cache(t)!.openCount <= 8)
    }

    @Test func readdirplusOfABigDirectoryThroughASmallCache() throws {
        let t = try Self.fixture(cacheSize: 4)
        for i in 0..<300 { t.writeHostFile("file-\(i)", "x") }
        let handle = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle
        var entries: [(String, UInt64, UInt64)] = []
        var offset: UInt64 = 0
        while true {
            let batch = try t.readdir(.root, handle, offset: offset, size: 4096, plus: true)
            if batch.isEmpty { break }
            entries += batch
            offset = batch.last!.1
        }
        #expect(entries.count == 302)
        for (name, _, node) in entries where name.hasPrefix("file-") {
            #expect(try t.fs.getattr(t.root, node: NodeID(node), handle: nil).attr.size == 1)
        }
        #expect(Self.cache(t)!.openCount <= 4)
    }

    @Test func theHandleIsTakenOnlyWhenTheDescriptorIsFirstEvicted() throws {
        let t = try Self.fixture(cacheSize: 2)
        t.writeHostFile("a", "a")
        let a = try t.lookup("a")
        #expect(try !t.fs.inodes.inode(a.node).usesFileHandle, "no name_to_handle_at at lookup")
        for name in ["b", "c", "d"] {
            t.writeHostFile(name, name)
            _ = try t.lookup(name)
        }
        #expect(try t.fs.inodes.inode(a.node).usesFileHandle, "taken before its descriptor was closed")
        #expect(try t.fs.getattr(t.root, node: a.node, handle: nil).attr.size == 1, "reopened from it")
    }

    @Test func anEvictedNodeFollowsItsFileAcrossRenamesOnTheHost() throws {
        let t = try Self.fixture(cacheSize: 1)
        let dir = try t.mkdir("dir")
        t.writeHostFile("dir/file", "abc")
        let file = try t.lookup("file", in: dir.node)
        t.writeHostFile("other", "x")
        _ = try t.lookup("other") // evicts dir and file
        #expect(rename(t.hostPath("dir"), t.hostPath("moved")) == 0)
        #expect(rename(t.hostPath("moved/file"), t.hostPath("moved/renamed")) == 0)
        #expect(try t.fs.getattr(t.root, node: file.node, handle: nil).attr.size == 3)
        #expect(try t.lookup("renamed", in: dir.node).node == file.node)
    }

    @Test func anEvictedNodeWhoseFileIsGoneIsStale() throws {
        let t = try Self.fixture(cacheSize: 1)
        t.writeHostFile("doomed", "x")
        let doomed = try t.lookup("doomed")
        t.writeHostFile("other", "x")
        _ = try t.lookup("other")
        #expect(unlink(t.hostPath("doomed")) == 0)
        #expect(throws: Errno(ESTALE)) { try t.fs.getattr(t.root, node: doomed.node, handle: nil) }
        // A new file that may reuse the inode number is a new node, never the old one.
        t.writeHostFile("doomed", "yy")
        let reborn = try t.lookup("doomed")
        #expect(reborn.node != doomed.node)
        #expect(try t.fs.getattr(t.root, node: reborn.node, handle: nil).attr.size == 2)
    }

    @Test func symlinksAndDirectoriesReopenFromTheirHandles() throws {
        let t = try Self.fixture(cacheSize: 1)
        #expect(symlink("target/path", t.hostPath("link")) == 0)
        let link = try t.lookup("link")
        let sub = try t.mkdir("sub")
        t.writeHostFile("sub/inner", "i")
        _ = try t.lookup("inner", in: sub.node)       // evicts link and sub
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = try buffer.withUnsafeMutableBytes { (raw) throws in try t.fs.readlink(t.root, node: link.node, into: raw) }
        #expect(String(decoding: buffer[0..<count], as: UTF8.self) == "target/path")
        t.writeHostFile("other", "x")
        _ = try t.lookup("other")                     // evicts inner
        #expect(try t.lookup("inner", in: sub.node).attr.size == 1)
        #expect(try t.lookup("..", in: sub.node).node == .root)
    }

    @Test func neverKeepsADescriptorPerInode() throws {
        let t = try Self.fixture(mode: .never)
        t.writeHostFile("f", "x")
        let entry = try t.lookup("f")
        #expect(try !t.fs.inodes.inode(entry.node).usesFileHandle)
        #expect(t.fs.inodes.handles.resolver == nil)
    }

    @Test func aFilesystemWithoutHandles() throws {
        // procfs exports no file handles.
        var mandatory = PassthroughOptions(sharedDir: "/proc/self")
        mandatory.inodeFileHandles = .mandatory
        #expect(throws: Errno.EOPNOTSUPP) { try PassthroughFileSystem(options: mandatory) }
        var prefer = mandatory
        prefer.inodeFileHandles = .prefer
        let fs = try PassthroughFileSystem(options: prefer)
        #expect(fs.inodes.handles.resolver == nil)
        #expect(try fs.getattr(RequestContext(uid: 0, gid: 0, pid: 1, unique: 1), node: .root, handle: nil).attr.mode
                & LinuxFileMode.typeMask == LinuxFileMode.directory)
    }

    @Test func aFileOnAnotherMountKeepsItsDescriptorOrIsRefusedWhenMandatory() throws {
        for mode in [InodeFileHandleMode.prefer, .mandatory] {
            let t = try Self.fixture(mode: mode)
            let sub = try t.mkdir("mnt")
            // A tmpfs inside the share: its handles would be decoded on the wrong mount.
            guard mount("swiftfs-test", t.hostPath("mnt"), "tmpfs", 0, nil) == 0 else { return } // no CAP_SYS_ADMIN
            defer { umount2(t.hostPath("mnt"), Int32(MNT_DETACH)) }
            t.writeHostFile("mnt/inner", "x")
            if mode == .prefer {
                let mounted = try t.lookup("mnt") // the mount's root, reached through the share's directory
                #expect(mounted.node != sub.node)
                let inner = try t.lookup("inner", in: mounted.node)
                // More nodes than the cache holds: the share's files get handles, the mount's keep descriptors.
                for i in 0..<20 { t.writeHostFile("f\(i)", "\(i)") }
                let files = try (0..<20).map { try t.lookup("f\($0)").node }
                #expect(try t.fs.inodes.inode(files[0]).usesFileHandle)
                #expect(try !t.fs.inodes.inode(mounted.node).usesFileHandle)
                #expect(try !t.fs.inodes.inode(inner.node).usesFileHandle)
                #expect(Self.cache(t)!.openCount <= 8)
                #expect(try t.fs.getattr(t.root, node: inner.node, handle: nil).attr.size == 1)
                #expect(try t.fs.getattr(t.root, node: files[0], handle: nil).attr.size == 1)
                t.fs.forget(node: inner.node, count: 1) // a descriptor kept for good goes with its inode
                #expect(throws: Errno.EBADF) { try t.fs.getattr(t.root, node: inner.node, handle: nil) }
            } else {
                #expect(throws: Errno(EXDEV)) { try t.lookup("mnt") }
            }
        }
    }

    @Test func concurrentOperationsOnMoreNodesThanTheCacheHolds() throws {
        let t = try Self.fixture(cacheSize: 4)
        for i in 0..<64 { t.writeHostFile("f\(i)", String(repeating: "x", count: i)) }
        let nodes = try (0..<64).map { try t.lookup("f\($0)").node }
        let failures = Mutex<[String]>([])
        NativeThread.runAll(count: 8) { worker in
            for round in 0..<400 {
                let i = (worker * 7 + round * 13) % 64
                do {
                    let size = try t.fs.getattr(t.root, node: nodes[i], handle: nil).attr.size
                    if size != UInt64(i) { failures.withLock { $0.append("f\(i): size \(size)") } }
                } catch {
                    failures.withLock { $0.append("f\(i): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(Self.cache(t)!.openCount <= 4)
    }
}

/// Open files and directories hold real descriptors: their tables are bounded.
@Suite struct OpenHandleLimitTests {
    @Test func opensBeyondTheLimitGetEMFILEUntilOneIsReleased() throws {
        let t = try PassthroughFixture { $0.openHandleLimit = 2 }
        t.writeHostFile("f", "x")
        let node = try t.lookup("f").node
        let flags = OpenFlags(LinuxOpenFlags.readOnly)
        let first = try t.fs.open(t.root, node: node, flags: flags)
        _ = try t.fs.open(t.root, node: node, flags: flags)
        #expect(throws: Errno(EMFILE)) { try t.fs.open(t.root, node: node, flags: flags) }
        #expect(throws: Errno(EMFILE)) { try t.create("new") }
        #expect(t.fs.inodes.count == 1) // the failed CREATE left no lookup behind
        try t.fs.release(t.root, node: node, handle: first.handle, flags: flags, flockUnlock: false, lockOwner: 0)
        _ = try t.fs.open(t.root, node: node, flags: flags)
    }

    @Test func directoriesToo() throws {
        let t = try PassthroughFixture { $0.openHandleLimit = 1 }
        let handle = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle
        #expect(throws: Errno(EMFILE)) { try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)) }
        try t.fs.releasedir(t.root, node: .root, handle: handle)
        _ = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0))
    }
}
