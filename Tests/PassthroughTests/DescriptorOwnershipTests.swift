import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import TestSupport
import Testing

/// Every descriptor the passthrough filesystem opens (inode O_PATH
/// descriptors, open files, open directories) is closed exactly when its
/// owner goes: after a session of lookups, opens and failures and a DESTROY,
/// the process holds as many descriptors of the share as before it.
/// Other tests open descriptors in this process at the same time, so the
/// count is of /proc/self/fd entries that point into this test's share.
@Suite struct DescriptorOwnershipTests {
    /// Descriptors of this process that refer to `directory` or a file below it.
    static func descriptorsInside(_ directory: String) -> Int {
        guard let listing = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(listing) }
        var count = 0
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(name) != nil else { continue }
            var link = [CChar](repeating: 0, count: 4096)
            let length = readlink("/proc/self/fd/" + name, &link, link.count - 1)
            guard length > 0 else { continue }
            let target = String(decoding: link[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target == directory || target.hasPrefix(directory + "/") { count += 1 }
        }
        return count
    }

    /// Opens, fails and forgets in every way a guest can, then DESTROYs.
    static func session(_ t: PassthroughFixture) throws {
        let share = t.directory
        HostFiles.write(share + "/file", "data")
        #expect(mkdir(share + "/dir", 0o755) == 0)
        HostFiles.write(share + "/dir/inner", "x")
        #expect(mkfifo(share + "/fifo", 0o644) == 0)
        #expect(symlink("file", share + "/link") == 0)
        #expect(mkdir(share + "/private", 0o700) == 0)
        let guest = t.context(uid: 4321, gid: 4321)

        // Lookups that succeed, again (a known inode: the new descriptor is dropped) and that fail.
        let file = try t.lookup("file")
        _ = try t.lookup("file")
        let dir = try t.lookup("dir")
        let inner = try t.lookup("inner", in: dir.node)
        let fifo = try t.lookup("fifo")
        let link = try t.lookup("link")
        let privateDir = try t.lookup("private")
        #expect(throws: Errno.ENOENT) { try t.lookup("missing") }
        #expect(throws: Errno.ENOENT) { try t.lookup("missing", in: dir.node) }

        // Opens that succeed and that fail before or after a descriptor is open.
        let opened = try t.fs.open(t.root, node: file.node, flags: OpenFlags(LinuxOpenFlags.readWrite)).handle
        #expect(throws: Errno.EACCES) { try t.fs.open(t.root, node: fifo.node, flags: OpenFlags(LinuxOpenFlags.readOnly)) }
        #expect(throws: Errno.ELOOP) { try t.fs.open(t.root, node: link.node, flags: OpenFlags(LinuxOpenFlags.readOnly)) }
        #expect(throws: Errno.EISDIR) { try t.fs.open(t.root, node: dir.node, flags: OpenFlags(LinuxOpenFlags.readOnly)) }
        // CREATE over an existing FIFO, symlink or directory: refused after looking at it through a descriptor.
        #expect(throws: Errno.EACCES) { try t.create("fifo") }
        #expect(throws: Errno.ELOOP) { try t.create("link") }
        #expect(throws: Errno.EISDIR) { try t.create("dir") }
        // CREATE as a guest user in a directory it may not write.
        #expect(throws: Errno.EACCES) { try t.create("denied", in: privateDir.node, context: guest) }
        let (created, createdHandle) = try t.create("created")

        // Directories: opened, refused, listed with READDIRPLUS (lookups of their own).
        let listing = try t.fs.opendir(t.root, node: dir.node, flags: OpenFlags(0)).handle
        let kept = try t.fs.opendir(t.root, node: NodeID.root, flags: OpenFlags(0)).handle
        #expect(throws: Errno.ENOTDIR) { try t.fs.opendir(t.root, node: file.node, flags: OpenFlags(0)) }
        let listed = try t.readdir(dir.node, listing, offset: 0, size: 4096, plus: true)
        #expect(listed.contains { $0.0 == "inner" })

        // Releases, forgets (once per lookup counted), and handles released twice.
        try t.fs.release(t.root, node: file.node, handle: opened, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
        #expect(throws: Errno.EBADF) {
            try t.fs.release(t.root, node: file.node, handle: opened, flags: OpenFlags(0), flockUnlock: false, lockOwner: 0)
        }
        try t.fs.releasedir(t.root, node: dir.node, handle: listing)
        #expect(throws: Errno.EBADF) { try t.fs.releasedir(t.root, node: dir.node, handle: listing) }
        t.fs.forget(node: file.node, count: 2)
        t.fs.forget(node: inner.node, count: 1)
        t.fs.forget(node: fifo.node, count: 1)

        // Still open at DESTROY: a file handle, a directory handle, several inodes.
        _ = (created, createdHandle, kept, link, privateDir)
        t.fs.destroy()
        #expect(t.fs.openNodeCount == 0)
    }

    @Test(arguments: [InodeFileHandleMode.never, .prefer])
    func aSessionWithFailuresLeavesNoDescriptorOfTheShareOpen(mode: InodeFileHandleMode) throws {
        let t = try PassthroughFixture { $0.inodeFileHandles = mode }
        let before = Self.descriptorsInside(t.directory)
        #expect(before > 0) // the root's own descriptor
        try Self.session(t)
        #expect(Self.descriptorsInside(t.directory) == before)
    }

    @Test func handlesRefusedAtTheLimitAreClosed() throws {
        let t = try PassthroughFixture { $0.openHandleLimit = 2 }
        HostFiles.write(t.directory + "/file", "data")
        let file = try t.lookup("file")
        let before = Self.descriptorsInside(t.directory)
        let flags = OpenFlags(LinuxOpenFlags.readOnly)
        let first = try t.fs.open(t.root, node: file.node, flags: flags).handle
        let second = try t.fs.open(t.root, node: file.node, flags: flags).handle
        // The third is opened on the host, then refused by the table: its descriptor must go with it.
        #expect(throws: Errno.EMFILE) { try t.fs.open(t.root, node: file.node, flags: flags) }
        _ = try t.fs.opendir(t.root, node: NodeID.root, flags: flags)
        _ = try t.fs.opendir(t.root, node: NodeID.root, flags: flags)
        #expect(throws: Errno.EMFILE) { try t.fs.opendir(t.root, node: NodeID.root, flags: flags) }
        #expect(Self.descriptorsInside(t.directory) == before + 4)
        for handle in [first, second] {
            try t.fs.release(t.root, node: file.node, handle: handle, flags: flags, flockUnlock: false, lockOwner: 0)
        }
        #expect(Self.descriptorsInside(t.directory) == before + 2)
        t.fs.destroy()
        #expect(Self.descriptorsInside(t.directory) == before - 1) // the file's inode went too
    }

    @Test func droppingTheFileSystemClosesEverything() throws {
        var template = Array("/tmp/swiftfs-own.XXXXXX".utf8CString)
        let share = String(cString: mkdtemp(&template)!)
        defer { _ = system("rm -rf '\(share)'") }
        do {
            let fs = try PassthroughFileSystem(options: PassthroughOptions(sharedDir: share))
            _ = try fs.opendir(RequestContext(uid: 0, gid: 0, pid: 1, unique: 1), node: NodeID.root, flags: OpenFlags(0))
            #expect(Self.descriptorsInside(share) > 0)
        }
        #expect(Self.descriptorsInside(share) == 0)
    }
}
