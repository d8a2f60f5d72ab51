// Linux values that travel inside FUSE messages: errno numbers (negated in
// fuse_out_header.error), open(2) flags, file mode bits, directory entry
// types and lock types. The guest has no libc, so they are defined here once.

public enum LinuxErrno {
    public static let EPERM: Int32 = 1
    public static let ENOENT: Int32 = 2
    public static let EINTR: Int32 = 4
    public static let EIO: Int32 = 5
    public static let ENXIO: Int32 = 6
    public static let E2BIG: Int32 = 7
    public static let EBADF: Int32 = 9
    public static let EAGAIN: Int32 = 11
    public static let ENOMEM: Int32 = 12
    public static let EACCES: Int32 = 13
    public static let EFAULT: Int32 = 14
    public static let EBUSY: Int32 = 16
    public static let EEXIST: Int32 = 17
    public static let EXDEV: Int32 = 18
    public static let ENODEV: Int32 = 19
    public static let ENOTDIR: Int32 = 20
    public static let EISDIR: Int32 = 21
    public static let EINVAL: Int32 = 22
    public static let ENFILE: Int32 = 23
    public static let EMFILE: Int32 = 24
    public static let EFBIG: Int32 = 27
    public static let ENOSPC: Int32 = 28
    public static let ESPIPE: Int32 = 29
    public static let EROFS: Int32 = 30
    public static let EMLINK: Int32 = 31
    public static let ERANGE: Int32 = 34
    public static let EDEADLK: Int32 = 35
    public static let ENAMETOOLONG: Int32 = 36
    public static let ENOLCK: Int32 = 37
    public static let ENOSYS: Int32 = 38
    public static let ENOTEMPTY: Int32 = 39
    public static let ELOOP: Int32 = 40
    public static let ENODATA: Int32 = 61
    public static let EOVERFLOW: Int32 = 75
    public static let EPROTO: Int32 = 71
    public static let EOPNOTSUPP: Int32 = 95
}

public enum LinuxOpenFlags {
    public static let readOnly: UInt32 = 0o0
    public static let writeOnly: UInt32 = 0o1
    public static let readWrite: UInt32 = 0o2
    public static let accessModeMask: UInt32 = 0o3
    public static let create: UInt32 = 0o100
    public static let exclusive: UInt32 = 0o200
    public static let noControllingTTY: UInt32 = 0o400
    public static let truncate: UInt32 = 0o1000
    public static let append: UInt32 = 0o2000
    public static let nonblock: UInt32 = 0o4000
    public static let dsync: UInt32 = 0o10000
    public static let direct: UInt32 = 0o40000
    public static let largefile: UInt32 = 0o100000
    public static let directory: UInt32 = 0o200000
    public static let noFollow: UInt32 = 0o400000
    public static let noAccessTime: UInt32 = 0o1000000
    public static let closeOnExec: UInt32 = 0o2000000
    public static let sync: UInt32 = 0o4010000
    public static let path: UInt32 = 0o10000000
}

public enum LinuxFileMode {
    public static let typeMask: UInt32 = 0o170000
    public static let socket: UInt32 = 0o140000
    public static let symlink: UInt32 = 0o120000
    public static let regular: UInt32 = 0o100000
    public static let blockDevice: UInt32 = 0o060000
    public static let directory: UInt32 = 0o040000
    public static let characterDevice: UInt32 = 0o020000
    public static let fifo: UInt32 = 0o010000
    public static let permissionMask: UInt32 = 0o7777

    @inlinable public static func isDirectory(_ mode: UInt32) -> Bool { mode & typeMask == directory }
    @inlinable public static func isRegular(_ mode: UInt32) -> Bool { mode & typeMask == regular }
    @inlinable public static func isSymlink(_ mode: UInt32) -> Bool { mode & typeMask == symlink }
    /// The dirent `d_type` for a mode (DT_* = S_IF* >> 12).
    @inlinable public static func direntType(_ mode: UInt32) -> UInt32 { (mode & typeMask) >> 12 }
}

public enum LinuxLockType {
    public static let read: UInt32 = 0     // F_RDLCK
    public static let write: UInt32 = 1    // F_WRLCK
    public static let unlock: UInt32 = 2   // F_UNLCK
}

public enum LinuxSeekWhence {
    public static let set: UInt32 = 0
    public static let current: UInt32 = 1
    public static let end: UInt32 = 2
    public static let data: UInt32 = 3
    public static let hole: UInt32 = 4
}
