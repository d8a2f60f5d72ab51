import CShim
import FuseServer
import Glibc

/// Extended attributes. The f*xattr calls refuse O_PATH descriptors, so
/// regular files and directories are reopened read-only through the
/// /proc/self/fd descriptor (never a path string: the sandbox may hide /proc
/// paths). Symlinks and special files are not reopened (that could block on a
/// FIFO or reach a device): they report no attributes and refuse changes.
/// With `--xattr` off every call is ENOSYS, which the kernel remembers.
extension PassthroughFileSystem {
    /// Runs `body` with a readable descriptor of `node`; nil for symlinks and special files.
    private func withXattrDescriptor<R>(_ node: NodeID, _ body: (Int32?) throws(Errno) -> R) throws(Errno) -> R {
        guard options.xattr else { throw Errno.notImplemented }
        let inode = try inodes.inode(node)
        guard inode.isRegularFile || inode.isDirectory else { return try body(nil) }
        let fd = try reopen(inode, flags: O_RDONLY | O_NONBLOCK)
        defer { close(fd) }
        return try body(fd)
    }

    public func setxattr(_ context: RequestContext, node: NodeID, name: CString, value: UnsafeRawBufferPointer,
                         flags: UInt32) throws(Errno) {
        try withXattrDescriptor(node) { (fd) throws(Errno) in
            guard let fd else { throw Errno.notSupported }
            _ = try systemCall { fsetxattr(fd, name.pointer, value.baseAddress, value.count, Int32(bitPattern: flags)) }
        }
    }

    public func getxattr(_ context: RequestContext, node: NodeID, name: CString,
                         into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try withXattrDescriptor(node) { (fd) throws(Errno) in
            guard let fd else { throw Errno.noData }
            return try systemCall { fgetxattr(fd, name.pointer, buffer?.baseAddress, buffer?.count ?? 0) }
        }
    }

    public func listxattr(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try withXattrDescriptor(node) { (fd) throws(Errno) in
            guard let fd else { return 0 }
            let base = buffer?.baseAddress?.assumingMemoryBound(to: CChar.self)
            return try systemCall { flistxattr(fd, base, buffer?.count ?? 0) }
        }
    }

    public func removexattr(_ context: RequestContext, node: NodeID, name: CString) throws(Errno) {
        try withXattrDescriptor(node) { (fd) throws(Errno) in
            guard let fd else { throw Errno.notSupported }
            _ = try systemCall { fremovexattr(fd, name.pointer) }
        }
    }
}
