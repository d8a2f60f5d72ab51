@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

@Suite struct AttributeAndEscapeTests {
    @Test func xattrsRoundTripAndSymlinksHaveNone() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f")
        func name<R>(_ s: String, _ body: (CString) throws -> R) throws -> R {
            try s.withCString { (p) throws -> R in try body(CString(bytesWithNUL: UnsafeBufferPointer(start: p, count: strlen(p) + 1))) }
        }
        let value: [UInt8] = Array("some value".utf8)
        try name("user.test") { (n) throws in
            try value.withUnsafeBytes { (v) throws in try t.fs.setxattr(t.root, node: entry.node, name: n, value: v, flags: 0) }
        }
        #expect(try name("user.test") { (n) throws in try t.fs.getxattr(t.root, node: entry.node, name: n, into: nil) } == value.count)
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = try buffer.withUnsafeMutableBytes { (raw) throws in
            try name("user.test") { (n) throws in try t.fs.getxattr(t.root, node: entry.node, name: n, into: raw) }
        }
        #expect(Array(buffer[0..<length]) == value)
        let listLength = try buffer.withUnsafeMutableBytes { (raw) throws in try t.fs.listxattr(t.root, node: entry.node, into: raw) }
        #expect(String(decoding: buffer[0..<listLength], as: UTF8.self).contains("user.test"))
        try name("user.test") { (n) throws in try t.fs.removexattr(t.root, node: entry.node, name: n) }
        #expect(throws: Errno.ENODATA) { try name("user.test") { (n) throws in try t.fs.getxattr(t.root, node: entry.node, name: n, into: nil) } }

        symlink("f", t.hostPath("link"))
        let link = try t.lookup("link")
        #expect(try t.fs.listxattr(t.root, node: link.node, into: nil) == 0)
        #expect(throws: Errno.ENODATA) { try name("user.test") { (n) throws in try t.fs.getxattr(t.root, node: link.node, name: n, into: nil) } }
    }

    @Test func setattrThroughAHandleAndWithout() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        _ = try t.write(entry.node, handle, Array(repeating: 1, count: 1000))
        var changes = AttributeChanges()
        changes.size = 10
        changes.handle = handle
        #expect(try t.fs.setattr(t.root, node: entry.node, changes: changes).attr.size == 10)
        changes = AttributeChanges()
        changes.size = 4096
        changes.mode = 0o600
        changes.mtime = .at(seconds: 1_000_000_000, nanoseconds: 42)
        changes.atime = .now
        let attr = try t.fs.setattr(t.root, node: entry.node, changes: changes).attr
        #expect(attr.size == 4096 && attr.mode & 0o7777 == 0o600 && attr.mtime == 1_000_000_000 && attr.mtimensec == 42)
        #expect(try t.read(entry.node, handle, size: 100, at: 0) == Array(repeating: 1, count: 10) + Array(repeating: 0, count: 90))
        let dir = try t.mkdir("d")
        changes = AttributeChanges()
        changes.size = 0
        #expect(throws: Errno.EISDIR) { try t.fs.setattr(t.root, node: dir.node, changes: changes) }
    }

    @Test func namesThatCouldEscapeAreNotNames() {
        for bad in ["", "a/b", "/", "../x", String(repeating: "x", count: 256)] {
            var bytes = Array(bad.utf8CString)
            let valid = bytes.withUnsafeMutableBufferPointer { FileName(CString(bytesWithNUL: UnsafeBufferPointer($0)), allowDots: true) != nil }
            #expect(!valid, "\(bad)")
        }
        for dots in [".", ".."] {
            var bytes = Array(dots.utf8CString)
            let strict = bytes.withUnsafeMutableBufferPointer { FileName(CString(bytesWithNUL: UnsafeBufferPointer($0))) != nil }
            #expect(!strict)
        }
    }

    @Test func dotDotIsBoundedByTheShare() throws {
        let t = try PassthroughFixture()
        #expect(try t.lookup("..").node == .root)
        let dir = try t.mkdir("d")
        #expect(try t.lookup("..", in: dir.node).node == .root)
        #expect(try t.lookup(".", in: dir.node).node == dir.node)
    }

    @Test func symlinksAreNeverFollowedOnTheHost() throws {
        let t = try PassthroughFixture()
        let outside = t.directory + "-outside"
        mkdir(outside, 0o755)
        defer { _ = system("rm -rf '\(outside)'") }
        close(open(outside + "/secret", O_CREAT | O_WRONLY, 0o600))
        symlink(outside, t.hostPath("out"))
        symlink(outside + "/secret", t.hostPath("secret"))
        let dirLink = try t.lookup("out")
        #expect(dirLink.attr.mode & LinuxFileMode.typeMask == LinuxFileMode.symlink)
        #expect(throws: Errno.ENOTDIR) { try t.lookup("secret", in: dirLink.node) }
        #expect(throws: Errno.ENOTDIR) { try t.fs.opendir(t.root, node: dirLink.node, flags: OpenFlags(0)) }
        let fileLink = try t.lookup("secret")
        #expect(throws: Errno(ELOOP)) { try t.fs.open(t.root, node: fileLink.node, flags: OpenFlags(LinuxOpenFlags.readOnly)) }
        var changes = AttributeChanges()
        changes.mode = 0o777
        #expect(throws: Errno.EOPNOTSUPP) { try t.fs.setattr(t.root, node: fileLink.node, changes: changes) }
        var st = stat()
        stat(outside + "/secret", &st)
        #expect(st.st_mode & 0o777 == 0o600)
        // CREATE over a symlink name does not write through it.
        #expect(throws: Errno.self) { try t.create("secret") }
    }

    @Test func specialFilesAreNeverOpenedOnTheHost() throws {
        let t = try PassthroughFixture()
        let fifo = try t.named("fifo") { (n) throws in
            try t.fs.mknod(t.root, parent: .root, name: n, mode: LinuxFileMode.fifo | 0o644, rdev: 0, umask: 0)
        }
        #expect(throws: Errno.EACCES) { try t.fs.open(t.root, node: fifo.node, flags: OpenFlags(LinuxOpenFlags.readOnly)) }
    }

    @Test func createAndSyncfsNeverOpenAnExistingSpecialFile() throws {
        let t = try PassthroughFixture()
        func mknod(_ name: String, _ mode: UInt32, _ rdev: UInt32) throws -> Entry {
            try t.named(name) { (n) throws in try t.fs.mknod(t.root, parent: .root, name: n, mode: mode, rdev: rdev, umask: 0) }
        }
        func create(_ name: String, _ flags: UInt32) throws -> FileHandle {
            try t.named(name) { (n) throws in
                try t.fs.create(t.root, parent: .root, name: n, mode: 0o644, umask: 0, flags: OpenFlags(flags)).1.handle
            }
        }
        // A FIFO (read-only, open(2) would block the worker) and a device node with
        // /dev/null's numbers (open(2) would open the host's device), made through MKNOD.
        _ = try mknod("fifo", LinuxFileMode.fifo | 0o666, 0)
        let device = try mknod("null", LinuxFileMode.characterDevice | 0o666, 0x103)
        for name in ["fifo", "null"] {
            #expect(throws: Errno.EACCES) { try create(name, LinuxOpenFlags.readWrite) }
        }
        #expect(throws: Errno.EINVAL) { try t.fs.syncfs(t.root, node: device.node) }
        #expect(throws: Errno.EISDIR) { _ = try t.mkdir("dir"); return try create("dir", LinuxOpenFlags.readWrite) }
        // Regular files: an existing one is opened (and truncated if asked), O_EXCL refuses it.
        t.writeHostFile("f", "old contents")
        let handle = try create("f", LinuxOpenFlags.readWrite | LinuxOpenFlags.truncate)
        #expect(try t.read(try t.lookup("f").node, handle, size: 100).isEmpty)
        #expect(throws: Errno.EEXIST) { try create("f", LinuxOpenFlags.readWrite | LinuxOpenFlags.exclusive) }
        try t.fs.syncfs(t.root, node: .root)
    }
}
