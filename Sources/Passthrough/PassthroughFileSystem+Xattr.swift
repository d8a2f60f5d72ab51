import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// Extended attributes. The f*xattr calls refuse O_PATH descriptors, so
/// regular files and directories are reopened read-only through the
/// /proc/self/fd descriptor (never a path string: the sandbox may hide /proc
/// paths), and kept in a bounded cache (Inode.withReadableDescriptor).
/// Symlinks and special files are not reopened (that could block on a FIFO or
/// reach a device): they report no attributes and refuse changes.
/// With `--xattr` off every call is ENOSYS, which the kernel remembers.
///
/// Every name goes through the xattr map (XattrMap): refused names never
/// reach the host, and host names the map hides never reach the guest.
/// POSIX ACLs (system.posix_acl_*) are set and removed with the caller's
/// credentials, so the host kernel applies its own rules: only the owner may
/// change them, the mode follows the ACL, and SGID is cleared when the caller
/// is not in the file's group.
extension PassthroughFileSystem {
    /// Runs `body` with a readable descriptor of `node`; nil for symlinks and special files.
    private func withXattrDescriptor<R>(_ node: NodeID, _ body: (Int32?) throws(Errno) -> R) throws(Errno) -> R {
        guard options.xattr else { throw Errno.ENOSYS }
        let inode = try inodes.inode(node)
        guard inode.isRegularFile || inode.isDirectory else { return try body(nil) }
        return try inode.withReadableDescriptor(reopen: { () throws(Errno) in try reopen(inode, flags: O_RDONLY | O_NONBLOCK) }) {
            (fd) throws(Errno) in try body(fd)
        }
    }

    /// Runs `body` with the host name for the guest's `name`, or throws the map's refusal.
    private func withHostName<R>(_ name: CString, refusal: Errno,
                                 _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        guard options.xattr else { throw Errno.ENOSYS }
        let map = options.xattrMap
        if map.isIdentity { return try body(name.pointer) }
        let bytes = UnsafeRawBufferPointer(start: name.pointer, count: name.count).bindMemory(to: UInt8.self)
        switch map.mapClient(bytes) {
        case .refused: throw refusal
        case .unsupported: throw Errno.EOPNOTSUPP
        case .host(var hostName):
            hostName.append(0)
            return try hostName.withUnsafeBufferPointer { (buffer) throws(Errno) -> R in
                try body(UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self))
            }
        }
    }

    private static func isPosixACL(_ name: UnsafePointer<CChar>) -> Bool {
        strncmp(name, "system.posix_acl_", 17) == 0
    }

    /// ACL changes as the caller (see the type's comment); others as the daemon.
    private func asWriter<R>(_ context: RequestContext, _ name: UnsafePointer<CChar>,
                             _ body: () throws(Errno) -> R) throws(Errno) -> R {
        Self.isPosixACL(name) ? try Credentials.asCaller(context, body) : try body()
    }

    public func setxattr(_ context: RequestContext, node: NodeID, name: CString, value: UnsafeRawBufferPointer,
                         flags: UInt32) throws(Errno) {
        try withHostName(name, refusal: .EPERM) { (hostName) throws(Errno) in
            try withXattrDescriptor(node) { (fd) throws(Errno) in
                guard let fd else { throw Errno.EOPNOTSUPP }
                try asWriter(context, hostName) { () throws(Errno) in
                    _ = try systemCall { fsetxattr(fd, hostName, value.baseAddress, value.count, Int32(bitPattern: flags)) }
                }
            }
        }
    }

    public func getxattr(_ context: RequestContext, node: NodeID, name: CString,
                         into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try withHostName(name, refusal: .ENODATA) { (hostName) throws(Errno) in
            try withXattrDescriptor(node) { (fd) throws(Errno) in
                guard let fd else { throw Errno.ENODATA }
                return try systemCall { fgetxattr(fd, hostName, buffer?.baseAddress, buffer?.count ?? 0) }
            }
        }
    }

    public func listxattr(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        try withXattrDescriptor(node) { (fd) throws(Errno) in
            guard let fd else { return 0 }
            if options.xattrMap.isIdentity {
                let base = buffer?.baseAddress?.assumingMemoryBound(to: CChar.self)
                return try systemCall { flistxattr(fd, base, buffer?.count ?? 0) }
            }
            return try mappedList(fd, into: buffer)
        }
    }

    /// The host's whole list, names mapped or hidden; sizes are those of the mapped list.
    private func mappedList(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int {
        var hostList: [UInt8] = []
        while true {
            let size = try systemCall { flistxattr(fd, nil, 0) }
            hostList = [UInt8](repeating: 0, count: size)
            let got = hostList.withUnsafeMutableBytes { flistxattr(fd, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
            if got >= 0 { hostList.removeLast(size - got); break }
            if errno != ERANGE { throw Errno.current } // ERANGE: the list grew meanwhile
        }
        var guestList: [UInt8] = []
        hostList.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = all[start...].firstIndex(of: 0) ?? all.count
                if let name = options.xattrMap.mapServer(UnsafeBufferPointer(rebasing: all[start..<end])) {
                    guestList += name
                    guestList.append(0)
                }
                start = end + 1
            }
        }
        guard let buffer else { return guestList.count }
        guard guestList.count <= buffer.count else { throw Errno.ERANGE }
        buffer.copyBytes(from: guestList)
        return guestList.count
    }

    public func removexattr(_ context: RequestContext, node: NodeID, name: CString) throws(Errno) {
        try withHostName(name, refusal: .EPERM) { (hostName) throws(Errno) in
            try withXattrDescriptor(node) { (fd) throws(Errno) in
                guard let fd else { throw Errno.EOPNOTSUPP }
                try asWriter(context, hostName) { () throws(Errno) in
                    _ = try systemCall { fremovexattr(fd, hostName) }
                }
            }
        }
    }
}
