import SwiftFSProtocol

/// The one place `--readonly` is enforced: which requests modify the share.
enum ReadOnlyPolicy {
    /// Whether `opcode` changes the filesystem. OPEN and CREATE are judged by
    /// their flags, in `opens(forWriting:)`.
    static func modifies(_ opcode: FuseOpcode) -> Bool {
        switch opcode {
        case .setattr, .symlink, .mknod, .mkdir, .unlink, .rmdir, .rename, .rename2, .link,
             .write, .create, .setxattr, .removexattr, .fallocate, .copyFileRange, .tmpfile:
            return true
        default:
            return false
        }
    }

    /// OPEN for writing (or with O_TRUNC) on a read-only share.
    static func opens(forWriting flags: OpenFlags) -> Bool { flags.writes }

    /// SETUPMAPPING of a writable DAX mapping on a read-only share.
    static func maps(forWriting flags: UInt64) -> Bool { flags & FuseFlag.mappingWrite != 0 }
}
