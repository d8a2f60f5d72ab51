import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// Creating, removing and renaming names; SETATTR; READLINK.
extension PassthroughFileSystem {
    func directory(_ node: NodeID) throws(Errno) -> Inode {
        let inode = try inodes.inode(node)
        guard inode.isDirectory else { throw Errno.ENOTDIR }
        return inode
    }

    public func mknod(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, rdev: UInt32,
                      umask: UInt32) throws(Errno) -> Entry {
        let dir = try directory(parent)
        try Credentials.asCaller(context) { () throws(Errno) in
            _ = try dir.withDescriptor { (dirFD) throws(Errno) in try systemCall { mknodat(dirFD, name.pointer, mode_t(mode), dev_t(rdev)) } }
        }
        return try lookupEntry(in: dir, name: name.pointer, statFirst: false)
    }

    public func mkdir(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32,
                      umask: UInt32) throws(Errno) -> Entry {
        let dir = try directory(parent)
        try Credentials.asCaller(context) { () throws(Errno) in
            _ = try dir.withDescriptor { (dirFD) throws(Errno) in try systemCall { mkdirat(dirFD, name.pointer, mode_t(mode)) } }
        }
        return try lookupEntry(in: dir, name: name.pointer, statFirst: false)
    }

    public func symlink(_ context: RequestContext, parent: NodeID, name: FileName, target: CString) throws(Errno) -> Entry {
        let dir = try directory(parent)
        try Credentials.asCaller(context) { () throws(Errno) in
            _ = try dir.withDescriptor { (dirFD) throws(Errno) in try systemCall { symlinkat(target.pointer, dirFD, name.pointer) } }
        }
        return try lookupEntry(in: dir, name: name.pointer, statFirst: false)
    }

    public func link(_ context: RequestContext, node: NodeID, newParent: NodeID, newName: FileName) throws(Errno) -> Entry {
        let inode = try inodes.inode(node)
        let dir = try directory(newParent)
        guard !inode.isDirectory else { throw Errno.EPERM }
        // Through /proc/self/fd with AT_SYMLINK_FOLLOW: the magic link names the
        // file itself (a symlink stays a symlink), and needs no CAP_DAC_READ_SEARCH.
        _ = try inode.withDescriptor { (fd) throws(Errno) in
            try dir.withDescriptor { (dirFD) throws(Errno) in
                try withProcFDName(fd) { (procName) throws(Errno) in
                    try systemCall { linkat(procSelfFD, procName, dirFD, newName.pointer, AT_SYMLINK_FOLLOW) }
                }
            }
        }
        return try lookupEntry(in: dir, name: newName.pointer, statFirst: true) // the file the kernel links
    }

    public func unlink(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) {
        let dir = try directory(parent)
        _ = try dir.withDescriptor { (dirFD) throws(Errno) in try systemCall { unlinkat(dirFD, name.pointer, 0) } }
    }

    public func rmdir(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) {
        let dir = try directory(parent)
        _ = try dir.withDescriptor { (dirFD) throws(Errno) in try systemCall { unlinkat(dirFD, name.pointer, shim_AT_REMOVEDIR) } }
    }

    public func rename(_ context: RequestContext, parent: NodeID, name: FileName, newParent: NodeID, newName: FileName,
                       flags: RenameFlags) throws(Errno) {
        let from = try directory(parent)
        let to = try directory(newParent)
        var hostFlags: UInt32 = 0
        if flags.contains(.noReplace) { hostFlags |= shim_RENAME_NOREPLACE }
        if flags.contains(.exchange) { hostFlags |= shim_RENAME_EXCHANGE }
        if flags.contains(.whiteout) { hostFlags |= shim_RENAME_WHITEOUT }
        _ = try from.withDescriptor { (fromFD) throws(Errno) in
            try to.withDescriptor { (toFD) throws(Errno) in
                try systemCall { shim_renameat2(fromFD, name.pointer, toFD, newName.pointer, hostFlags) }
            }
        }
    }

    public func readlink(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        let inode = try inodes.inode(node)
        guard inode.isSymlink else { throw Errno.EINVAL }
        let base = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
        return try inode.withDescriptor { (fd) throws(Errno) in try systemCall { readlinkat(fd, "", base, buffer.count) } }
    }

    public func setattr(_ context: RequestContext, node: NodeID, changes: AttributeChanges) throws(Errno) -> Attributes {
        let inode = try inodes.inode(node)
        // An open file the change came through (ftruncate of a file opened for writing).
        let file = changes.handle.flatMap { try? files.get($0) }

        if let mode = changes.mode {
            if let file {
                _ = try systemCall { fchmod(file.fd, mode_t(mode & LinuxFileMode.permissionMask)) }
            } else {
                guard !inode.isSymlink else { throw Errno.EOPNOTSUPP }
                _ = try inode.withDescriptor { (fd) throws(Errno) in
                    try withProcFDName(fd) { (name) throws(Errno) in
                        try systemCall { fchmodat(procSelfFD, name, mode_t(mode & LinuxFileMode.permissionMask), 0) }
                    }
                }
            }
        }
        if changes.uid != nil || changes.gid != nil {
            let uid = changes.uid ?? uid_t.max, gid = changes.gid ?? gid_t.max
            _ = try inode.withDescriptor { (fd) throws(Errno) in
                try systemCall { fchownat(fd, "", uid, gid, shim_AT_EMPTY_PATH | shim_AT_SYMLINK_NOFOLLOW) }
            }
        }
        let before = changes.size == nil ? nil : dax?.identityBeforeChange(node: node)
        if let size = changes.size {
            guard size <= UInt64(Int64.max) else { throw Errno.EINVAL }
            if let file {
                _ = try killingSuidgid(if: changes.killSuidgid) { () throws(Errno) in
                    try systemCall { ftruncate(file.fd, off_t(size)) }
                }
            } else {
                guard !inode.isDirectory else { throw Errno.EISDIR }
                guard inode.isRegularFile else { throw Errno.EINVAL }
                let fd = try reopen(inode, flags: O_WRONLY)
                _ = try killingSuidgid(if: changes.killSuidgid) { () throws(Errno) in
                    try systemCall { ftruncate(fd.rawValue, off_t(size)) }
                }
            }
        }
        if changes.atime != nil || changes.mtime != nil {
            var times = (Self.hostTime(changes.atime), Self.hostTime(changes.mtime))
            _ = try withUnsafePointer(to: &times) { (pointer) throws(Errno) in
                try pointer.withMemoryRebound(to: timespec.self, capacity: 2) { (list) throws(Errno) in
                    try inode.withDescriptor { (fd) throws(Errno) in
                        try systemCall { utimensat(fd, "", list, shim_AT_EMPTY_PATH | shim_AT_SYMLINK_NOFOLLOW) }
                    }
                }
            }
        }
        // Window copies past a new end of file read zeros.
        if let size = changes.size { dax?.fileChanged(node: node, offset: size, length: UInt64.max, before: before) }
        if let file {
            var st = stat()
            _ = try systemCall { fstat(file.fd, &st) }
            return Attributes(attr: FuseAttr(st), timeout: timeout)
        }
        return try attributes(of: inode)
    }

    private static func hostTime(_ change: TimeChange?) -> timespec {
        switch change {
        case nil: return Glibc.timespec(tv_sec: 0, tv_nsec: Int(shim_UTIME_OMIT))
        case .now: return Glibc.timespec(tv_sec: 0, tv_nsec: Int(shim_UTIME_NOW))
        case .at(let seconds, let nanoseconds):
            return Glibc.timespec(tv_sec: Int(Int64(bitPattern: seconds)), tv_nsec: Int(min(nanoseconds, 999_999_999)))
        }
    }
}
