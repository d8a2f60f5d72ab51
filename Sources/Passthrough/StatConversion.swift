import Glibc
import SwiftFSProtocol

extension FuseAttr {
    /// The FUSE attributes of a host stat result.
    init(_ st: stat) {
        self.init()
        ino = UInt64(st.st_ino)
        size = UInt64(bitPattern: Int64(st.st_size))
        blocks = UInt64(bitPattern: Int64(st.st_blocks))
        atime = UInt64(bitPattern: Int64(st.st_atim.tv_sec))
        atimensec = UInt32(truncatingIfNeeded: st.st_atim.tv_nsec)
        mtime = UInt64(bitPattern: Int64(st.st_mtim.tv_sec))
        mtimensec = UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec)
        ctime = UInt64(bitPattern: Int64(st.st_ctim.tv_sec))
        ctimensec = UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec)
        mode = UInt32(st.st_mode)
        nlink = UInt32(truncatingIfNeeded: st.st_nlink)
        uid = st.st_uid
        gid = st.st_gid
        rdev = UInt32(truncatingIfNeeded: st.st_rdev)
        blksize = UInt32(truncatingIfNeeded: st.st_blksize)
    }
}
