// Linux values that travel inside FUSE messages (errno numbers are in
// Errno.swift): open(2) flags, file mode bits, directory entry
// types and lock types. The guest has no libc, so they are defined here once.

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
