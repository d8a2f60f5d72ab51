// FUSE protocol constants and flag bits (include/uapi/linux/fuse.h, 7.38).

public enum FuseProtocol {
    public static let kernelMajor: UInt32 = 7
    public static let kernelMinor: UInt32 = 38
    /// The node id of the root directory.
    public static let rootNodeID: UInt64 = 1
    /// The smallest read buffer a FUSE server may use on /dev/fuse.
    public static let minReadBuffer = 8192
    /// Directory records are padded to 8 bytes.
    @inlinable public static func recordAlign(_ n: Int) -> Int { (n + 7) & ~7 }
}

/// fuse_init_in/out `flags` (low 32 bits) and `flags2` (bits 32...63).
public struct FuseInitFlags: OptionSet, Sendable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let asyncRead = FuseInitFlags(rawValue: 1 << 0)
    public static let posixLocks = FuseInitFlags(rawValue: 1 << 1)
    public static let fileOps = FuseInitFlags(rawValue: 1 << 2)
    public static let atomicOTrunc = FuseInitFlags(rawValue: 1 << 3)
    public static let exportSupport = FuseInitFlags(rawValue: 1 << 4)
    public static let bigWrites = FuseInitFlags(rawValue: 1 << 5)
    public static let dontMask = FuseInitFlags(rawValue: 1 << 6)
    public static let spliceWrite = FuseInitFlags(rawValue: 1 << 7)
    public static let spliceMove = FuseInitFlags(rawValue: 1 << 8)
    public static let spliceRead = FuseInitFlags(rawValue: 1 << 9)
    public static let flockLocks = FuseInitFlags(rawValue: 1 << 10)
    public static let hasIoctlDir = FuseInitFlags(rawValue: 1 << 11)
    public static let autoInvalData = FuseInitFlags(rawValue: 1 << 12)
    public static let doReaddirplus = FuseInitFlags(rawValue: 1 << 13)
    public static let readdirplusAuto = FuseInitFlags(rawValue: 1 << 14)
    public static let asyncDIO = FuseInitFlags(rawValue: 1 << 15)
    public static let writebackCache = FuseInitFlags(rawValue: 1 << 16)
    public static let noOpenSupport = FuseInitFlags(rawValue: 1 << 17)
    public static let parallelDirops = FuseInitFlags(rawValue: 1 << 18)
    public static let handleKillpriv = FuseInitFlags(rawValue: 1 << 19)
    public static let posixACL = FuseInitFlags(rawValue: 1 << 20)
    public static let abortError = FuseInitFlags(rawValue: 1 << 21)
    public static let maxPages = FuseInitFlags(rawValue: 1 << 22)
    public static let cacheSymlinks = FuseInitFlags(rawValue: 1 << 23)
    public static let noOpendirSupport = FuseInitFlags(rawValue: 1 << 24)
    public static let explicitInvalData = FuseInitFlags(rawValue: 1 << 25)
    public static let mapAlignment = FuseInitFlags(rawValue: 1 << 26)
    public static let submounts = FuseInitFlags(rawValue: 1 << 27)
    public static let handleKillprivV2 = FuseInitFlags(rawValue: 1 << 28)
    public static let setxattrExt = FuseInitFlags(rawValue: 1 << 29)
    public static let initExt = FuseInitFlags(rawValue: 1 << 30)
    public static let initReserved = FuseInitFlags(rawValue: 1 << 31)
    public static let securityContext = FuseInitFlags(rawValue: 1 << 32)
    public static let hasInodeDAX = FuseInitFlags(rawValue: 1 << 33)
    public static let hasExpireOnly = FuseInitFlags(rawValue: 1 << 35)
    /// 7.39 (Linux 6.6+; older kernels ignore it): shared mmap of DIRECT_IO files.
    public static let directIOAllowMmap = FuseInitFlags(rawValue: 1 << 36)
    /// 7.42 (Linux 6.14+, while /sys/module/fuse/parameters/enable_uring is Y): requests through io_uring.
    public static let overIoUring = FuseInitFlags(rawValue: 1 << 41)

    /// The flags fuse_init_in/out carry: `flags`, and `flags2` above them when INIT_EXT is set.
    @inlinable public init(flags: UInt32, flags2: UInt32) {
        let low = FuseInitFlags(rawValue: UInt64(flags))
        self = low.contains(.initExt) ? low.union(FuseInitFlags(rawValue: UInt64(flags2) << 32)) : low
    }
}

/// fuse_setattr_in.valid
public struct FuseSetattrValid: OptionSet, Sendable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let mode = FuseSetattrValid(rawValue: 1 << 0)
    public static let uid = FuseSetattrValid(rawValue: 1 << 1)
    public static let gid = FuseSetattrValid(rawValue: 1 << 2)
    public static let size = FuseSetattrValid(rawValue: 1 << 3)
    public static let atime = FuseSetattrValid(rawValue: 1 << 4)
    public static let mtime = FuseSetattrValid(rawValue: 1 << 5)
    public static let fh = FuseSetattrValid(rawValue: 1 << 6)
    public static let atimeNow = FuseSetattrValid(rawValue: 1 << 7)
    public static let mtimeNow = FuseSetattrValid(rawValue: 1 << 8)
    public static let lockOwner = FuseSetattrValid(rawValue: 1 << 9)
    public static let ctime = FuseSetattrValid(rawValue: 1 << 10)
    public static let killSuidgid = FuseSetattrValid(rawValue: 1 << 11)
}

/// fuse_open_out.open_flags
public struct FuseOpenOutFlags: OptionSet, Sendable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let directIO = FuseOpenOutFlags(rawValue: 1 << 0)
    public static let keepCache = FuseOpenOutFlags(rawValue: 1 << 1)
    public static let nonseekable = FuseOpenOutFlags(rawValue: 1 << 2)
    public static let cacheDir = FuseOpenOutFlags(rawValue: 1 << 3)
    public static let stream = FuseOpenOutFlags(rawValue: 1 << 4)
    public static let noflush = FuseOpenOutFlags(rawValue: 1 << 5)
    public static let parallelDirectWrites = FuseOpenOutFlags(rawValue: 1 << 6)
}

public enum FuseFlag {
    /// fuse_open_in.open_flags
    public static let openKillSuidgid: UInt32 = 1 << 0
    /// fuse_getattr_in.getattr_flags: `fh` is valid
    public static let getattrFH: UInt32 = 1 << 0
    /// fuse_release_in.release_flags
    public static let releaseFlush: UInt32 = 1 << 0
    public static let releaseFlockUnlock: UInt32 = 1 << 1
    /// fuse_lk_in.lk_flags: the lock is a BSD flock, not a POSIX lock
    public static let lockFlock: UInt32 = 1 << 0
    /// fuse_write_in.write_flags
    public static let writeCache: UInt32 = 1 << 0
    public static let writeLockOwner: UInt32 = 1 << 1
    public static let writeKillSuidgid: UInt32 = 1 << 2
    /// fuse_read_in.read_flags
    public static let readLockOwner: UInt32 = 1 << 1
    /// fuse_fsync_in.fsync_flags
    public static let fsyncDataOnly: UInt32 = 1 << 0
    /// fuse_attr.flags
    public static let attrSubmount: UInt32 = 1 << 0
    public static let attrDAX: UInt32 = 1 << 1
    /// fuse_setxattr_in.setxattr_flags
    public static let setxattrACLKillSgid: UInt32 = 1 << 0
    /// fuse_setupmapping_in.flags
    public static let mappingWrite: UInt64 = 1 << 0
    public static let mappingRead: UInt64 = 1 << 1
    /// fuse_rename2_in.flags (renameat2)
    public static let renameNoReplace: UInt32 = 1 << 0
    public static let renameExchange: UInt32 = 1 << 1
    public static let renameWhiteout: UInt32 = 1 << 2
}

/// Sizes of records older kernels send or expect (the server accepts them).
public enum FuseCompatSize {
    public static let entryOut = 120
    public static let attrOut = 96
    public static let mknodIn = 8
    public static let writeIn = 24
    public static let statfsOut = 48
    public static let setxattrIn = 8
    public static let initOut = 8
    public static let initOut22 = 24
    /// fuse_init_in before FUSE_INIT_EXT (7.36): major, minor, max_readahead, flags
    public static let initIn = 16
}
