import CLinuxHeaders
import SwiftFSProtocol
import Testing

/// Every FUSE wire record has the kernel's size and field offsets (linux/fuse.h, 7.38).
@Suite struct WireLayoutTests {
    @Test func headers() {
        expectSameLayout(FuseInHeader.self, fuse_in_header.self, [
            (\.len, \.len), (\.opcode, \.opcode), (\.unique, \.unique), (\.nodeID, \.nodeid), (\.uid, \.uid),
            (\.gid, \.gid), (\.pid, \.pid), (\.totalExtLen, \.total_extlen), (\.padding, \.padding),
        ])
        expectSameLayout(FuseOutHeader.self, fuse_out_header.self, [(\.len, \.len), (\.error, \.error), (\.unique, \.unique)])
    }

    @Test func attributesAndEntries() {
        expectSameLayout(FuseAttr.self, fuse_attr.self, [
            (\.ino, \.ino), (\.size, \.size), (\.blocks, \.blocks), (\.atime, \.atime), (\.mtime, \.mtime),
            (\.ctime, \.ctime), (\.atimensec, \.atimensec), (\.mtimensec, \.mtimensec), (\.ctimensec, \.ctimensec),
            (\.mode, \.mode), (\.nlink, \.nlink), (\.uid, \.uid), (\.gid, \.gid), (\.rdev, \.rdev),
            (\.blksize, \.blksize), (\.flags, \.flags),
        ])
        expectSameLayout(FuseEntryOut.self, fuse_entry_out.self, [
            (\.nodeID, \.nodeid), (\.generation, \.generation), (\.entryValid, \.entry_valid),
            (\.attrValid, \.attr_valid), (\.entryValidNsec, \.entry_valid_nsec), (\.attrValidNsec, \.attr_valid_nsec),
            (\.attr, \.attr),
        ])
        expectSameLayout(FuseAttrOut.self, fuse_attr_out.self, [
            (\.attrValid, \.attr_valid), (\.attrValidNsec, \.attr_valid_nsec), (\.dummy, \.dummy), (\.attr, \.attr),
        ])
        expectSameLayout(FuseGetattrIn.self, fuse_getattr_in.self, [(\.getattrFlags, \.getattr_flags), (\.dummy, \.dummy), (\.fh, \.fh)])
        expectSameLayout(FuseSetattrIn.self, fuse_setattr_in.self, [
            (\.valid, \.valid), (\.padding, \.padding), (\.fh, \.fh), (\.size, \.size), (\.lockOwner, \.lock_owner),
            (\.atime, \.atime), (\.mtime, \.mtime), (\.ctime, \.ctime), (\.atimensec, \.atimensec),
            (\.mtimensec, \.mtimensec), (\.ctimensec, \.ctimensec), (\.mode, \.mode), (\.unused4, \.unused4),
            (\.uid, \.uid), (\.gid, \.gid), (\.unused5, \.unused5),
        ])
        expectSameLayout(FuseKStatfs.self, fuse_kstatfs.self, [
            (\.blocks, \.blocks), (\.bfree, \.bfree), (\.bavail, \.bavail), (\.files, \.files), (\.ffree, \.ffree),
            (\.bsize, \.bsize), (\.namelen, \.namelen), (\.frsize, \.frsize), (\.padding, \.padding), (\.spare, \.spare),
        ])
        expectSameLayout(FuseStatfsOut.self, fuse_statfs_out.self, [(\.st, \.st)])
    }

    @Test func forgetAndNames() {
        expectSameLayout(FuseForgetIn.self, fuse_forget_in.self, [(\.nlookup, \.nlookup)])
        expectSameLayout(FuseForgetOne.self, fuse_forget_one.self, [(\.nodeID, \.nodeid), (\.nlookup, \.nlookup)])
        expectSameLayout(FuseBatchForgetIn.self, fuse_batch_forget_in.self, [(\.count, \.count), (\.dummy, \.dummy)])
        expectSameLayout(FuseMknodIn.self, fuse_mknod_in.self, [(\.mode, \.mode), (\.rdev, \.rdev), (\.umask, \.umask), (\.padding, \.padding)])
        expectSameLayout(FuseMkdirIn.self, fuse_mkdir_in.self, [(\.mode, \.mode), (\.umask, \.umask)])
        expectSameLayout(FuseRenameIn.self, fuse_rename_in.self, [(\.newDir, \.newdir)])
        expectSameLayout(FuseRename2In.self, fuse_rename2_in.self, [(\.newDir, \.newdir), (\.flags, \.flags), (\.padding, \.padding)])
        expectSameLayout(FuseLinkIn.self, fuse_link_in.self, [(\.oldNodeID, \.oldnodeid)])
        expectSameLayout(FuseAccessIn.self, fuse_access_in.self, [(\.mask, \.mask), (\.padding, \.padding)])
        expectSameLayout(FuseInterruptIn.self, fuse_interrupt_in.self, [(\.unique, \.unique)])
    }

    @Test func openReadWrite() {
        expectSameLayout(FuseOpenIn.self, fuse_open_in.self, [(\.flags, \.flags), (\.openFlags, \.open_flags)])
        expectSameLayout(FuseCreateIn.self, fuse_create_in.self, [(\.flags, \.flags), (\.mode, \.mode), (\.umask, \.umask), (\.openFlags, \.open_flags)])
        expectSameLayout(FuseOpenOut.self, fuse_open_out.self, [(\.fh, \.fh), (\.openFlags, \.open_flags), (\.padding, \.padding)])
        expectSameLayout(FuseReleaseIn.self, fuse_release_in.self, [
            (\.fh, \.fh), (\.flags, \.flags), (\.releaseFlags, \.release_flags), (\.lockOwner, \.lock_owner),
        ])
        expectSameLayout(FuseFlushIn.self, fuse_flush_in.self, [(\.fh, \.fh), (\.unused, \.unused), (\.padding, \.padding), (\.lockOwner, \.lock_owner)])
        expectSameLayout(FuseReadIn.self, fuse_read_in.self, [
            (\.fh, \.fh), (\.offset, \.offset), (\.size, \.size), (\.readFlags, \.read_flags), (\.lockOwner, \.lock_owner),
            (\.flags, \.flags), (\.padding, \.padding),
        ])
        expectSameLayout(FuseWriteIn.self, fuse_write_in.self, [
            (\.fh, \.fh), (\.offset, \.offset), (\.size, \.size), (\.writeFlags, \.write_flags), (\.lockOwner, \.lock_owner),
            (\.flags, \.flags), (\.padding, \.padding),
        ])
        expectSameLayout(FuseWriteOut.self, fuse_write_out.self, [(\.size, \.size), (\.padding, \.padding)])
        expectSameLayout(FuseFsyncIn.self, fuse_fsync_in.self, [(\.fh, \.fh), (\.fsyncFlags, \.fsync_flags), (\.padding, \.padding)])
        expectSameLayout(FuseFallocateIn.self, fuse_fallocate_in.self, [
            (\.fh, \.fh), (\.offset, \.offset), (\.length, \.length), (\.mode, \.mode), (\.padding, \.padding),
        ])
        expectSameLayout(FuseLseekIn.self, fuse_lseek_in.self, [(\.fh, \.fh), (\.offset, \.offset), (\.whence, \.whence), (\.padding, \.padding)])
        expectSameLayout(FuseLseekOut.self, fuse_lseek_out.self, [(\.offset, \.offset)])
        expectSameLayout(FuseCopyFileRangeIn.self, fuse_copy_file_range_in.self, [
            (\.fhIn, \.fh_in), (\.offIn, \.off_in), (\.nodeIDOut, \.nodeid_out), (\.fhOut, \.fh_out), (\.offOut, \.off_out),
            (\.len, \.len), (\.flags, \.flags),
        ])
        expectSameLayout(FuseSyncfsIn.self, fuse_syncfs_in.self, [(\.padding, \.padding)])
    }

    @Test func directoriesXattrsLocks() {
        expectSameLayout(FuseDirent.self, fuse_dirent.self, [(\.ino, \.ino), (\.off, \.off), (\.namelen, \.namelen), (\.type, \.type)])
        expectSameLayout(FuseSetxattrIn.self, fuse_setxattr_in.self, [
            (\.size, \.size), (\.flags, \.flags), (\.setxattrFlags, \.setxattr_flags), (\.padding, \.padding),
        ])
        #expect(FuseCompatSize.setxattrIn == Int(FUSE_COMPAT_SETXATTR_IN_SIZE))
        expectSameLayout(FuseGetxattrIn.self, fuse_getxattr_in.self, [(\.size, \.size), (\.padding, \.padding)])
        expectSameLayout(FuseGetxattrOut.self, fuse_getxattr_out.self, [(\.size, \.size), (\.padding, \.padding)])
        expectSameLayout(FuseFileLock.self, fuse_file_lock.self, [(\.start, \.start), (\.end, \.end), (\.type, \.type), (\.pid, \.pid)])
        expectSameLayout(FuseLkIn.self, fuse_lk_in.self, [(\.fh, \.fh), (\.owner, \.owner), (\.lock, \.lk), (\.lkFlags, \.lk_flags), (\.padding, \.padding)])
        expectSameLayout(FuseLkOut.self, fuse_lk_out.self, [(\.lock, \.lk)])
    }

    @Test func initAndMappings() {
        expectSameLayout(FuseInitIn.self, fuse_init_in.self, [
            (\.major, \.major), (\.minor, \.minor), (\.maxReadahead, \.max_readahead), (\.flags, \.flags),
            (\.flags2, \.flags2), (\.unused, \.unused),
        ])
        expectSameLayout(FuseInitOut.self, fuse_init_out.self, [
            (\.major, \.major), (\.minor, \.minor), (\.maxReadahead, \.max_readahead), (\.flags, \.flags),
            (\.maxBackground, \.max_background), (\.congestionThreshold, \.congestion_threshold), (\.maxWrite, \.max_write),
            (\.timeGran, \.time_gran), (\.maxPages, \.max_pages), (\.mapAlignment, \.map_alignment), (\.flags2, \.flags2),
            (\.unused, \.unused),
        ])
        #expect(FuseCompatSize.initOut == Int(FUSE_COMPAT_INIT_OUT_SIZE))
        #expect(FuseCompatSize.initOut22 == Int(FUSE_COMPAT_22_INIT_OUT_SIZE))
        #expect(FuseCompatSize.entryOut == Int(FUSE_COMPAT_ENTRY_OUT_SIZE))
        #expect(FuseCompatSize.attrOut == Int(FUSE_COMPAT_ATTR_OUT_SIZE))
        #expect(FuseCompatSize.mknodIn == Int(FUSE_COMPAT_MKNOD_IN_SIZE))
        #expect(FuseCompatSize.writeIn == Int(FUSE_COMPAT_WRITE_IN_SIZE))
        #expect(FuseCompatSize.statfsOut == Int(FUSE_COMPAT_STATFS_SIZE))
        expectSameLayout(FuseSetupMappingIn.self, fuse_setupmapping_in.self, [
            (\.fh, \.fh), (\.foffset, \.foffset), (\.len, \.len), (\.flags, \.flags), (\.moffset, \.moffset),
        ])
        expectSameLayout(FuseRemoveMappingIn.self, fuse_removemapping_in.self, [(\.count, \.count)])
        expectSameLayout(FuseRemoveMappingOne.self, fuse_removemapping_one.self, [(\.moffset, \.moffset), (\.len, \.len)])
    }

    /// FUSE over io_uring (7.42): the installed header predates it, so the kernel's numbers are spelled out.
    @Test func ioUringRecordsHaveTheKernelLayout() {
        #expect(FuseUringReqHeader.opInOffset == 128 && FuseUringReqHeader.opInSize == 128)
        #expect(FuseUringReqHeader.entInOutOffset == 256 && FuseUringReqHeader.wireSize == 288)
        #expect(FuseUringEntInOut.wireSize == 32)
        #expect(MemoryLayout<FuseUringEntInOut>.offset(of: \.commitID) == 8)
        #expect(MemoryLayout<FuseUringEntInOut>.offset(of: \.payloadSize) == 16)
        #expect(MemoryLayout<FuseUringEntInOut>.offset(of: \.reserved) == 24)
        #expect(FuseUringCmdReq.wireSize == 24)
        #expect(MemoryLayout<FuseUringCmdReq>.offset(of: \.commitID) == 8)
        #expect(MemoryLayout<FuseUringCmdReq>.offset(of: \.qid) == 16)
        #expect(FuseUringCommand.register.rawValue == 1 && FuseUringCommand.commitAndFetch.rawValue == 2)
        #expect(FuseInitFlags.overIoUring.rawValue == 1 << 41)
    }

    @Test func initFlagsTakeFlags2OnlyWithInitExt() {
        let flags2 = UInt32(truncatingIfNeeded: FuseInitFlags.overIoUring.rawValue >> 32)
        #expect(FuseInitFlags(flags: UInt32(FuseInitFlags.initExt.rawValue), flags2: flags2).contains(.overIoUring))
        #expect(!FuseInitFlags(flags: UInt32(FuseInitFlags.maxPages.rawValue), flags2: flags2).contains(.overIoUring))
    }

    @Test func constantsMatchTheHeader() {
        #expect(FuseProtocol.kernelMajor == UInt32(FUSE_KERNEL_VERSION))
        #expect(FuseProtocol.kernelMinor == UInt32(FUSE_KERNEL_MINOR_VERSION))
        #expect(FuseProtocol.rootNodeID == UInt64(FUSE_ROOT_ID))
        #expect(FuseProtocol.minReadBuffer == Int(FUSE_MIN_READ_BUFFER))
        #expect(FuseOpcode.setlkw.rawValue == FUSE_SETLKW.rawValue)
        #expect(FuseOpcode.rename2.rawValue == FUSE_RENAME2.rawValue)
        #expect(FuseOpcode.copyFileRange.rawValue == FUSE_COPY_FILE_RANGE.rawValue)
        #expect(FuseOpcode.syncfs.rawValue == FUSE_SYNCFS.rawValue)
        #expect(FuseOpcode.tmpfile.rawValue == FUSE_TMPFILE.rawValue)
        #expect(FuseInitFlags.maxPages.rawValue == UInt64(FUSE_MAX_PAGES))
        #expect(FuseInitFlags.initExt.rawValue == UInt64(FUSE_INIT_EXT))
        #expect(FuseInitFlags.setxattrExt.rawValue == UInt64(FUSE_SETXATTR_EXT))
        #expect(FuseInitFlags.handleKillprivV2.rawValue == UInt64(FUSE_HANDLE_KILLPRIV_V2))
        #expect(FuseInitFlags.securityContext.rawValue == UInt64(FUSE_SECURITY_CTX))
        #expect(FuseInitFlags.hasInodeDAX.rawValue == UInt64(FUSE_HAS_INODE_DAX))
        #expect(FuseSetattrValid.killSuidgid.rawValue == UInt32(FATTR_KILL_SUIDGID))
        #expect(FuseOpenOutFlags.parallelDirectWrites.rawValue == UInt32(FOPEN_PARALLEL_DIRECT_WRITES))
        #expect(FuseFlag.lockFlock == UInt32(FUSE_LK_FLOCK))
        #expect(FuseFlag.releaseFlockUnlock == UInt32(FUSE_RELEASE_FLOCK_UNLOCK))
        #expect(FuseFlag.getattrFH == UInt32(FUSE_GETATTR_FH))
    }

    /// Every opcode we know has the header's number, and the header has no
    /// opcode below CUSE_INIT that we lack a case for.
    @Test func everyOpcodeMatchesTheHeader() {
        let table: [(FuseOpcode, UInt32)] = [
            (.lookup, FUSE_LOOKUP.rawValue),
            (.forget, FUSE_FORGET.rawValue),
            (.getattr, FUSE_GETATTR.rawValue),
            (.setattr, FUSE_SETATTR.rawValue),
            (.readlink, FUSE_READLINK.rawValue),
            (.symlink, FUSE_SYMLINK.rawValue),
            (.mknod, FUSE_MKNOD.rawValue),
            (.mkdir, FUSE_MKDIR.rawValue),
            (.unlink, FUSE_UNLINK.rawValue),
            (.rmdir, FUSE_RMDIR.rawValue),
            (.rename, FUSE_RENAME.rawValue),
            (.link, FUSE_LINK.rawValue),
            (.open, FUSE_OPEN.rawValue),
            (.read, FUSE_READ.rawValue),
            (.write, FUSE_WRITE.rawValue),
            (.statfs, FUSE_STATFS.rawValue),
            (.release, FUSE_RELEASE.rawValue),
            (.fsync, FUSE_FSYNC.rawValue),
            (.setxattr, FUSE_SETXATTR.rawValue),
            (.getxattr, FUSE_GETXATTR.rawValue),
            (.listxattr, FUSE_LISTXATTR.rawValue),
            (.removexattr, FUSE_REMOVEXATTR.rawValue),
            (.flush, FUSE_FLUSH.rawValue),
            (.`init`, FUSE_INIT.rawValue),
            (.opendir, FUSE_OPENDIR.rawValue),
            (.readdir, FUSE_READDIR.rawValue),
            (.releasedir, FUSE_RELEASEDIR.rawValue),
            (.fsyncdir, FUSE_FSYNCDIR.rawValue),
            (.getlk, FUSE_GETLK.rawValue),
            (.setlk, FUSE_SETLK.rawValue),
            (.setlkw, FUSE_SETLKW.rawValue),
            (.access, FUSE_ACCESS.rawValue),
            (.create, FUSE_CREATE.rawValue),
            (.interrupt, FUSE_INTERRUPT.rawValue),
            (.bmap, FUSE_BMAP.rawValue),
            (.destroy, FUSE_DESTROY.rawValue),
            (.ioctl, FUSE_IOCTL.rawValue),
            (.poll, FUSE_POLL.rawValue),
            (.notifyReply, FUSE_NOTIFY_REPLY.rawValue),
            (.batchForget, FUSE_BATCH_FORGET.rawValue),
            (.fallocate, FUSE_FALLOCATE.rawValue),
            (.readdirplus, FUSE_READDIRPLUS.rawValue),
            (.rename2, FUSE_RENAME2.rawValue),
            (.lseek, FUSE_LSEEK.rawValue),
            (.copyFileRange, FUSE_COPY_FILE_RANGE.rawValue),
            (.setupMapping, FUSE_SETUPMAPPING.rawValue),
            (.removeMapping, FUSE_REMOVEMAPPING.rawValue),
            (.syncfs, FUSE_SYNCFS.rawValue),
            (.tmpfile, FUSE_TMPFILE.rawValue),
        ]
        for (opcode, value) in table {
            #expect(opcode.rawValue == value, "\(opcode.name)")
            #expect(opcode.name == FuseOpcode.name(of: value))
        }
        let known = Set(table.map(\.1))
        for value in UInt32(1)...UInt32(FUSE_TMPFILE.rawValue) where FuseOpcode(rawValue: value) != nil {
            #expect(known.contains(value), "opcode \(value) is not checked against the header")
        }
        #expect(FuseOpcode.name(of: 9999) == "op9999")
    }
}
