@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import SystemSupport
import Testing

@Suite struct InodeLifecycleTests {
    @Test func eachLookupCountsAndForgetRemovesAtZero() throws {
        let t = try PassthroughFixture()
        t.writeHostFile("f", "x")
        let node = try t.lookup("f").node
        _ = try t.lookup("f")
        _ = try t.lookup("f")
        #expect(t.fs.inodes.lookupCount(node) == 3)
        t.fs.forget(node: node, count: 2)
        #expect(t.fs.inodes.lookupCount(node) == 1)
        t.fs.forget(node: node, count: 1)
        #expect(t.fs.inodes.lookupCount(node) == nil)
        #expect(throws: Errno.EBADF) { try t.fs.getattr(t.root, node: node, handle: nil) }
        // A new lookup gives a new node id.
        #expect(try t.lookup("f").node != node)
    }

    @Test func dotAndDotDotCountLookupsOfTheDirectoryTheyName() throws {
        let t = try PassthroughFixture()
        let dir = try t.mkdir("d")
        let sub = try t.mkdir("s", in: dir.node)
        #expect(try t.lookup(".", in: dir.node).node == dir.node)
        #expect(try t.lookup("..", in: sub.node).node == dir.node)
        #expect(t.fs.inodes.lookupCount(dir.node) == 3)
        t.fs.forget(node: dir.node, count: 3)
        #expect(t.fs.inodes.lookupCount(dir.node) == nil)
        // ".." of a directory whose parent the kernel forgot is refused, not invented.
        #expect(throws: Errno.EACCES) { try t.lookup("..", in: sub.node) }
    }

    @Test func forgetOfMoreThanGivenClamps() throws {
        let t = try PassthroughFixture()
        t.writeHostFile("f", "x")
        let node = try t.lookup("f").node
        t.fs.forget(node: node, count: .max)
        #expect(t.fs.inodes.lookupCount(node) == nil)
        t.fs.forget(node: node, count: 1)
        t.fs.forget(node: NodeID(424242), count: 1)
        t.fs.forget(node: .root, count: .max)
        #expect(try t.fs.getattr(t.root, node: .root, handle: nil).attr.mode & LinuxFileMode.typeMask == LinuxFileMode.directory)
    }

    @Test func hardLinksShareOneNodeAndCountLinks() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("a")
        try t.fs.release(t.root, node: entry.node, handle: handle, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
        let linked = try t.named("b") { (n) throws in try t.fs.link(t.root, node: entry.node, newParent: .root, newName: n) }
        #expect(linked.node == entry.node)
        #expect(linked.attr.nlink == 2)
        #expect(t.fs.inodes.lookupCount(entry.node) == 2)
        try t.named("a") { (n) throws in try t.fs.unlink(t.root, parent: .root, name: n) }
        #expect(try t.fs.getattr(t.root, node: entry.node, handle: nil).attr.nlink == 1)
        // Still usable through the kept O_PATH descriptor after the name is gone.
        try t.named("b") { (n) throws in try t.fs.unlink(t.root, parent: .root, name: n) }
        #expect(try t.fs.getattr(t.root, node: entry.node, handle: nil).attr.nlink == 0)
    }

    @Test func renameVariants() throws {
        let t = try PassthroughFixture()
        t.writeHostFile("a", "A")
        t.writeHostFile("b", "B")
        func rename(_ from: String, _ to: String, _ flags: RenameFlags) throws {
            try t.named(from) { (f) throws in
                try t.named(to) { (n) throws in
                    try t.fs.rename(t.root, parent: .root, name: f, newParent: .root, newName: n, flags: flags)
                }
            }
        }
        #expect(throws: Errno.EEXIST) { try rename("a", "b", .noReplace) }
        try rename("a", "b", .exchange)
        let a = try t.lookup("a"), b = try t.lookup("b")
        #expect(a.attr.size == 1 && b.attr.size == 1)
        #expect(throws: Errno.ENOENT) { try rename("a", "missing", .exchange) }
        let dir = try t.mkdir("d")
        try t.named("a") { (f) throws in
            try t.named("moved") { (n) throws in
                try t.fs.rename(t.root, parent: .root, name: f, newParent: dir.node, newName: n, flags: [])
            }
        }
        #expect(try t.lookup("moved", in: dir.node).node == a.node)
        try rename("b", "c", .noReplace)
        #expect(try t.lookup("c").node == b.node)
    }

    @Test func callerOwnsWhatItCreates() throws {
        let t = try PassthroughFixture()
        chmod(t.directory, 0o777)
        let (entry, _) = try t.create("mine", context: t.context(uid: 4321, gid: 8765))
        #expect(entry.attr.uid == 4321 && entry.attr.gid == 8765)
        let symlink = try t.named("link") { (n) throws in
            try "target".withCString { (p) throws in
                let bytes = UnsafeBufferPointer(start: p, count: 7)
                return try t.fs.symlink(t.context(uid: 4321, gid: 8765), parent: .root, name: n, target: CString(bytesWithNUL: bytes))
            }
        }
        #expect(symlink.attr.uid == 4321)
        // This thread is root again afterwards.
        #expect(geteuid() == 0 && getegid() == 0)
    }

    @Test func cachePolicySetsTimeoutsAndOpenFlags() throws {
        let direct: FuseOpenOutFlags = [.directIO, .parallelDirectWrites]
        for (policy, seconds, flags) in [(CachePolicy.never, UInt64(0), direct),
                                         (.metadata, 1, direct), (.auto, 1, []), (.always, 86400, .keepCache)] {
            let t = try PassthroughFixture(cache: policy)
            let (entry, _) = try t.create("f")
            #expect(entry.entryTimeout.seconds == seconds && entry.attrTimeout.seconds == seconds)
            let opened = try t.fs.open(t.root, node: entry.node, flags: OpenFlags(LinuxOpenFlags.readOnly))
            #expect(opened.flags == flags)
        }
    }

    @Test func concurrentLookupsAndForgetsKeepCountsConsistent() throws {
        let t = try PassthroughFixture()
        for i in 0..<8 { t.writeHostFile("f\(i)", "\(i)") }
        NativeThread.runAll(count: 8) { worker in
            for round in 0..<500 {
                let name = "f\((worker + round) % 8)"
                if let entry = try? t.lookup(name) {
                    _ = try? t.fs.getattr(t.root, node: entry.node, handle: nil)
                    t.fs.forget(node: entry.node, count: 1)
                }
            }
        }
        #expect(t.fs.inodes.count == 0)
    }
}
