// FUSE wire records, field for field as include/uapi/linux/fuse.h (7.38) lays them out
// (transcribed from the header; ProtocolTests checks every size and offset against the C
// definitions). Compiles in the host package and in the Embedded guest.

/// struct fuse_attr
public struct FuseAttr: WireRecord {
    public var ino: UInt64 = 0
    public var size: UInt64 = 0
    public var blocks: UInt64 = 0
    public var atime: UInt64 = 0
    public var mtime: UInt64 = 0
    public var ctime: UInt64 = 0
    public var atimensec: UInt32 = 0
    public var mtimensec: UInt32 = 0
    public var ctimensec: UInt32 = 0
    public var mode: UInt32 = 0
    public var nlink: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var rdev: UInt32 = 0
    public var blksize: UInt32 = 0
    public var flags: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_kstatfs
public struct FuseKStatfs: WireRecord {
    public var blocks: UInt64 = 0
    public var bfree: UInt64 = 0
    public var bavail: UInt64 = 0
    public var files: UInt64 = 0
    public var ffree: UInt64 = 0
    public var bsize: UInt32 = 0
    public var namelen: UInt32 = 0
    public var frsize: UInt32 = 0
    public var padding: UInt32 = 0
    public var spare: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0)
    @inlinable public init() {}
}

/// struct fuse_file_lock
public struct FuseFileLock: WireRecord {
    public var start: UInt64 = 0
    public var end: UInt64 = 0
    public var type: UInt32 = 0
    public var pid: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_entry_out
public struct FuseEntryOut: WireRecord {
    public var nodeID: UInt64 = 0
    public var generation: UInt64 = 0
    public var entryValid: UInt64 = 0
    public var attrValid: UInt64 = 0
    public var entryValidNsec: UInt32 = 0
    public var attrValidNsec: UInt32 = 0
    public var attr: FuseAttr = FuseAttr()
    @inlinable public init() {}
}

/// struct fuse_forget_in
public struct FuseForgetIn: WireRecord {
    public var nlookup: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_forget_one
public struct FuseForgetOne: WireRecord {
    public var nodeID: UInt64 = 0
    public var nlookup: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_batch_forget_in
public struct FuseBatchForgetIn: WireRecord {
    public var count: UInt32 = 0
    public var dummy: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_getattr_in
public struct FuseGetattrIn: WireRecord {
    public var getattrFlags: UInt32 = 0
    public var dummy: UInt32 = 0
    public var fh: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_attr_out
public struct FuseAttrOut: WireRecord {
    public var attrValid: UInt64 = 0
    public var attrValidNsec: UInt32 = 0
    public var dummy: UInt32 = 0
    public var attr: FuseAttr = FuseAttr()
    @inlinable public init() {}
}

/// struct fuse_mknod_in
public struct FuseMknodIn: WireRecord {
    public var mode: UInt32 = 0
    public var rdev: UInt32 = 0
    public var umask: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_mkdir_in
public struct FuseMkdirIn: WireRecord {
    public var mode: UInt32 = 0
    public var umask: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_rename_in
public struct FuseRenameIn: WireRecord {
    public var newDir: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_rename2_in
public struct FuseRename2In: WireRecord {
    public var newDir: UInt64 = 0
    public var flags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_link_in
public struct FuseLinkIn: WireRecord {
    public var oldNodeID: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_setattr_in
public struct FuseSetattrIn: WireRecord {
    public var valid: UInt32 = 0
    public var padding: UInt32 = 0
    public var fh: UInt64 = 0
    public var size: UInt64 = 0
    public var lockOwner: UInt64 = 0
    public var atime: UInt64 = 0
    public var mtime: UInt64 = 0
    public var ctime: UInt64 = 0
    public var atimensec: UInt32 = 0
    public var mtimensec: UInt32 = 0
    public var ctimensec: UInt32 = 0
    public var mode: UInt32 = 0
    public var unused4: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var unused5: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_open_in
public struct FuseOpenIn: WireRecord {
    public var flags: UInt32 = 0
    public var openFlags: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_create_in
public struct FuseCreateIn: WireRecord {
    public var flags: UInt32 = 0
    public var mode: UInt32 = 0
    public var umask: UInt32 = 0
    public var openFlags: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_open_out
public struct FuseOpenOut: WireRecord {
    public var fh: UInt64 = 0
    public var openFlags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_release_in
public struct FuseReleaseIn: WireRecord {
    public var fh: UInt64 = 0
    public var flags: UInt32 = 0
    public var releaseFlags: UInt32 = 0
    public var lockOwner: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_flush_in
public struct FuseFlushIn: WireRecord {
    public var fh: UInt64 = 0
    public var unused: UInt32 = 0
    public var padding: UInt32 = 0
    public var lockOwner: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_read_in
public struct FuseReadIn: WireRecord {
    public var fh: UInt64 = 0
    public var offset: UInt64 = 0
    public var size: UInt32 = 0
    public var readFlags: UInt32 = 0
    public var lockOwner: UInt64 = 0
    public var flags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_write_in
public struct FuseWriteIn: WireRecord {
    public var fh: UInt64 = 0
    public var offset: UInt64 = 0
    public var size: UInt32 = 0
    public var writeFlags: UInt32 = 0
    public var lockOwner: UInt64 = 0
    public var flags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_write_out
public struct FuseWriteOut: WireRecord {
    public var size: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_statfs_out
public struct FuseStatfsOut: WireRecord {
    public var st: FuseKStatfs = FuseKStatfs()
    @inlinable public init() {}
}

/// struct fuse_fsync_in
public struct FuseFsyncIn: WireRecord {
    public var fh: UInt64 = 0
    public var fsyncFlags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_setxattr_in
public struct FuseSetxattrIn: WireRecord {
    public var size: UInt32 = 0
    public var flags: UInt32 = 0
    public var setxattrFlags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_getxattr_in
public struct FuseGetxattrIn: WireRecord {
    public var size: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_getxattr_out
public struct FuseGetxattrOut: WireRecord {
    public var size: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_lk_in
public struct FuseLkIn: WireRecord {
    public var fh: UInt64 = 0
    public var owner: UInt64 = 0
    public var lock: FuseFileLock = FuseFileLock()
    public var lkFlags: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_lk_out
public struct FuseLkOut: WireRecord {
    public var lock: FuseFileLock = FuseFileLock()
    @inlinable public init() {}
}

/// struct fuse_access_in
public struct FuseAccessIn: WireRecord {
    public var mask: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_init_in
public struct FuseInitIn: WireRecord {
    public var major: UInt32 = 0
    public var minor: UInt32 = 0
    public var maxReadahead: UInt32 = 0
    public var flags: UInt32 = 0
    public var flags2: UInt32 = 0
    public var unused: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    @inlinable public init() {}
}

/// struct fuse_init_out
public struct FuseInitOut: WireRecord {
    public var major: UInt32 = 0
    public var minor: UInt32 = 0
    public var maxReadahead: UInt32 = 0
    public var flags: UInt32 = 0
    public var maxBackground: UInt16 = 0
    public var congestionThreshold: UInt16 = 0
    public var maxWrite: UInt32 = 0
    public var timeGran: UInt32 = 0
    public var maxPages: UInt16 = 0
    public var mapAlignment: UInt16 = 0
    public var flags2: UInt32 = 0
    public var unused: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0)
    @inlinable public init() {}
}

/// struct fuse_interrupt_in
public struct FuseInterruptIn: WireRecord {
    public var unique: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_fallocate_in
public struct FuseFallocateIn: WireRecord {
    public var fh: UInt64 = 0
    public var offset: UInt64 = 0
    public var length: UInt64 = 0
    public var mode: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_in_header
public struct FuseInHeader: WireRecord {
    public var len: UInt32 = 0
    public var opcode: UInt32 = 0
    public var unique: UInt64 = 0
    public var nodeID: UInt64 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var pid: UInt32 = 0
    public var totalExtLen: UInt16 = 0
    public var padding: UInt16 = 0
    @inlinable public init() {}
}

/// struct fuse_out_header
public struct FuseOutHeader: WireRecord {
    public var len: UInt32 = 0
    public var error: Int32 = 0
    public var unique: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_dirent
public struct FuseDirent: WireRecord {
    public var ino: UInt64 = 0
    public var off: UInt64 = 0
    public var namelen: UInt32 = 0
    public var type: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_lseek_in
public struct FuseLseekIn: WireRecord {
    public var fh: UInt64 = 0
    public var offset: UInt64 = 0
    public var whence: UInt32 = 0
    public var padding: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_lseek_out
public struct FuseLseekOut: WireRecord {
    public var offset: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_copy_file_range_in
public struct FuseCopyFileRangeIn: WireRecord {
    public var fhIn: UInt64 = 0
    public var offIn: UInt64 = 0
    public var nodeIDOut: UInt64 = 0
    public var fhOut: UInt64 = 0
    public var offOut: UInt64 = 0
    public var len: UInt64 = 0
    public var flags: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_setupmapping_in
public struct FuseSetupMappingIn: WireRecord {
    public var fh: UInt64 = 0
    public var foffset: UInt64 = 0
    public var len: UInt64 = 0
    public var flags: UInt64 = 0
    public var moffset: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_removemapping_in
public struct FuseRemoveMappingIn: WireRecord {
    public var count: UInt32 = 0
    @inlinable public init() {}
}

/// struct fuse_removemapping_one
public struct FuseRemoveMappingOne: WireRecord {
    public var moffset: UInt64 = 0
    public var len: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_syncfs_in
public struct FuseSyncfsIn: WireRecord {
    public var padding: UInt64 = 0
    @inlinable public init() {}
}
