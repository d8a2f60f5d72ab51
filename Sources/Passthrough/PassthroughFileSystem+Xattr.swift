import CShim
import FuseServer
import Glibc

/// Extended attributes, through /proc/self/fd/N: the f*xattr calls refuse
/// O_PATH descriptors, and the path form reaches the node itself (the magic
/// link is not a symlink walk, so nothing outside the share is reachable).
/// With `--xattr` off every call is ENOSYS, which the kernel remembers.
extension PassthroughFileSystem {
    private func xattrPath<R>(_ node: NodeID, _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        guard options.xattr else { throw Errno.notImplemented }
        let inode = try inodes.inode(node)
        // "/proc/self/fd/" + digits, on the stack.
        var path: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &path) { (raw) throws(Errno) -> R in
            let prefix = "/proc/self/fd/"
            var i = 0
            for byte in prefix.utf8 { raw[i] = byte; i += 1 }
            try withProcFDName(inode.fd) { (digits) throws(Errno) in
                var j = 0
                while digits[j] != 0 { raw[i] = UInt8(bitPattern: digits[j]); i += 1; j += 1 }
            }
            raw[i] = 0
            return try body(raw.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
    }

    public func setxattr(_ context: RequestContext, node: NodeID, name: CString, value: UnsafeRawBufferPointer,
                         flags: UInt32) throws(Errno) {
        try xattrPath(node) { (path) throws(Errno) in
            _ = try systemCall { CShim.setxattr(path, name.pointer, value.baseAddress, value.count, Int32(bitPattern: flags)) }
        }
    }

    public func getxattr(_ context: RequestContext, node: NodeID, name: CString,
                         into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try xattrPath(node) { (path) throws(Errno) in
            try systemCall { CShim.getxattr(path, name.pointer, buffer?.baseAddress, buffer?.count ?? 0) }
        }
    }

    public func listxattr(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try xattrPath(node) { (path) throws(Errno) in
            let base = buffer?.baseAddress?.assumingMemoryBound(to: CChar.self)
            return try systemCall { CShim.listxattr(path, base, buffer?.count ?? 0) }
        }
    }

    public func removexattr(_ context: RequestContext, node: NodeID, name: CString) throws(Errno) {
        try xattrPath(node) { (path) throws(Errno) in
            _ = try systemCall { CShim.removexattr(path, name.pointer) }
        }
    }
}
