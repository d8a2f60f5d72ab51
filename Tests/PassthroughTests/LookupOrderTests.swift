@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

/// A lookup stats the name first or opens it first, by what the directory's
/// last lookup found (PassthroughFileSystem.lookupEntry). Either order must
/// give the same nodes, counts and descriptors: only the number of system
/// calls may differ.
@Suite struct LookupOrderTests {
    static let modes = [InodeFileHandleMode.never, .prefer]

    func fixture(_ mode: InodeFileHandleMode) throws -> PassthroughFixture {
        try PassthroughFixture { $0.inodeFileHandles = mode }
    }

    func root(_ t: PassthroughFixture) throws -> Inode { try t.fs.inodes.inode(.root) }

    func hostInode(_ t: PassthroughFixture, _ name: String) -> UInt64 {
        var st = stat()
        return lstat(t.hostPath(name), &st) == 0 ? UInt64(st.st_ino) : 0
    }

    @Test(arguments: modes) func theOrderFollowsWhatTheLastLookupFound(mode: InodeFileHandleMode) throws {
        let t = try fixture(mode)
        t.writeHostFile("a", "a")
        t.writeHostFile("b", "b")
        #expect(try root(t).lookupsStatFirst, "a new directory stats first")
        _ = try t.lookup("a")
        #expect(try !root(t).lookupsStatFirst, "a new file: open the next name first")
        _ = try t.lookup("a")
        #expect(try root(t).lookupsStatFirst, "a known file: stat the next name first")
        _ = try t.lookup("b")
        #expect(try !root(t).lookupsStatFirst)
        #expect(throws: Errno.ENOENT) { try t.lookup("missing") }
        #expect(try root(t).lookupsStatFirst, "a missing name is cheaper to find by stat")
        // What the caller knows does not change the directory's guess.
        let (created, _) = try t.create("c")
        _ = try t.named("l") { (n) throws in try t.fs.link(t.root, node: created.node, newParent: .root, newName: n) }
        #expect(try root(t).lookupsStatFirst)
    }

    @Test(arguments: modes) func aHardLinkFoundByOpeningFirstIsTheKnownNodeAndItsDescriptorIsClosed(mode: InodeFileHandleMode) throws {
        let t = try fixture(mode)
        t.writeHostFile("a", "a")
        #expect(link(t.hostPath("a"), t.hostPath("hard")) == 0)
        let first = try t.lookup("a") // new: the next lookup opens first
        let descriptors = DescriptorOwnershipTests.descriptorsInside(t.directory)
        let linked = try t.lookup("hard")
        #expect(linked.node == first.node)
        #expect(linked.attr.nlink == 2 && linked.attr.ino == hostInode(t, "a"))
        #expect(t.fs.inodes.lookupCount(first.node) == 2)
        #expect(DescriptorOwnershipTests.descriptorsInside(t.directory) == descriptors, "the second descriptor was closed")
        #expect(t.fs.openNodeCount == 1)
        // Found again by stat first (the last lookup was of a known file).
        #expect(try t.lookup("a").node == first.node)
        #expect(t.fs.inodes.lookupCount(first.node) == 3)
    }

    @Test(arguments: modes) func aNameReplacedOnTheHostGetsANewNodeInEitherOrder(mode: InodeFileHandleMode) throws {
        let t = try fixture(mode)
        t.writeHostFile("f", "old")
        let old = try t.lookup("f")
        _ = try t.lookup("f") // known: the next lookup stats first
        t.writeHostFile("g", "newer")
        #expect(rename(t.hostPath("g"), t.hostPath("f")) == 0)
        let replaced = try t.lookup("f") // stat first finds an unknown file, then opens it
        #expect(replaced.node != old.node)
        #expect(replaced.attr.ino == hostInode(t, "f") && replaced.attr.size == 5)
        #expect(try !root(t).lookupsStatFirst)
        t.writeHostFile("h", "newest")
        #expect(rename(t.hostPath("h"), t.hostPath("f")) == 0)
        let again = try t.lookup("f") // open first
        #expect(again.node != replaced.node && again.node != old.node)
        #expect(again.attr.ino == hostInode(t, "f") && again.attr.size == 6)
        // The old nodes still name their own (now nameless) files.
        #expect(try t.fs.getattr(t.root, node: old.node, handle: nil).attr.size == 3)
        #expect(try t.fs.getattr(t.root, node: replaced.node, handle: nil).attr.size == 5)
    }

    @Test(arguments: modes) func aFileRenamedOnTheHostKeepsItsNodeInEitherOrder(mode: InodeFileHandleMode) throws {
        let t = try fixture(mode)
        t.writeHostFile("f", "abc")
        let file = try t.lookup("f")
        #expect(rename(t.hostPath("f"), t.hostPath("g")) == 0)
        #expect(try !root(t).lookupsStatFirst)
        #expect(try t.lookup("g").node == file.node, "opened first, found known")
        #expect(rename(t.hostPath("g"), t.hostPath("h")) == 0)
        #expect(try root(t).lookupsStatFirst)
        #expect(try t.lookup("h").node == file.node, "stat first, found known")
        #expect(t.fs.inodes.lookupCount(file.node) == 3)
    }

    @Test(arguments: modes) func createdNamesReplyTheirOwnFiles(mode: InodeFileHandleMode) throws {
        let t = try fixture(mode)
        let (file, handle) = try t.create("x")
        #expect(file.attr.ino == hostInode(t, "x"))
        let dir = try t.mkdir("d")
        #expect(dir.attr.ino == hostInode(t, "d") && dir.attr.mode & LinuxFileMode.typeMask == LinuxFileMode.directory)
        let link = try t.named("s") { (n) throws in
            try t.cString("x") { (target) throws in try t.fs.symlink(t.root, parent: .root, name: n, target: target) }
        }
        #expect(link.attr.ino == hostInode(t, "s") && link.attr.mode & LinuxFileMode.typeMask == LinuxFileMode.symlink)
        // CREATE of an existing name (no O_EXCL) opens it: the known node, no descriptor kept twice.
        let descriptors = DescriptorOwnershipTests.descriptorsInside(t.directory)
        let (again, second) = try t.create("x")
        #expect(again.node == file.node)
        #expect(t.fs.inodes.lookupCount(file.node) == 2)
        #expect(DescriptorOwnershipTests.descriptorsInside(t.directory) == descriptors + 1, "only the new open file")
        for h in [handle, second] {
            try t.fs.release(t.root, node: file.node, handle: h, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
        }
    }
}
