// FUSE opcodes (include/uapi/linux/fuse.h, protocol 7.38).

public enum FuseOpcode: UInt32, Sendable {
    case lookup = 1
    case forget = 2          // no reply
    case getattr = 3
    case setattr = 4
    case readlink = 5
    case symlink = 6
    case mknod = 8
    case mkdir = 9
    case unlink = 10
    case rmdir = 11
    case rename = 12
    case link = 13
    case open = 14
    case read = 15
    case write = 16
    case statfs = 17
    case release = 18
    case fsync = 20
    case setxattr = 21
    case getxattr = 22
    case listxattr = 23
    case removexattr = 24
    case flush = 25
    case `init` = 26
    case opendir = 27
    case readdir = 28
    case releasedir = 29
    case fsyncdir = 30
    case getlk = 31
    case setlk = 32
    case setlkw = 33
    case access = 34
    case create = 35
    case interrupt = 36
    case bmap = 37
    case destroy = 38
    case ioctl = 39
    case poll = 40
    case notifyReply = 41
    case batchForget = 42    // no reply
    case fallocate = 43
    case readdirplus = 44
    case rename2 = 45
    case lseek = 46
    case copyFileRange = 47
    case setupMapping = 48
    case removeMapping = 49
    case syncfs = 50
    case tmpfile = 51
}

extension FuseOpcode {
    /// The name in linux/fuse.h without its FUSE_ prefix ("LOOKUP"), for logs and
    /// statistics (Embedded Swift cannot print enum cases).
    public var name: String {
        switch self {
        case .lookup: "LOOKUP"
        case .forget: "FORGET"
        case .getattr: "GETATTR"
        case .setattr: "SETATTR"
        case .readlink: "READLINK"
        case .symlink: "SYMLINK"
        case .mknod: "MKNOD"
        case .mkdir: "MKDIR"
        case .unlink: "UNLINK"
        case .rmdir: "RMDIR"
        case .rename: "RENAME"
        case .link: "LINK"
        case .open: "OPEN"
        case .read: "READ"
        case .write: "WRITE"
        case .statfs: "STATFS"
        case .release: "RELEASE"
        case .fsync: "FSYNC"
        case .setxattr: "SETXATTR"
        case .getxattr: "GETXATTR"
        case .listxattr: "LISTXATTR"
        case .removexattr: "REMOVEXATTR"
        case .flush: "FLUSH"
        case .`init`: "INIT"
        case .opendir: "OPENDIR"
        case .readdir: "READDIR"
        case .releasedir: "RELEASEDIR"
        case .fsyncdir: "FSYNCDIR"
        case .getlk: "GETLK"
        case .setlk: "SETLK"
        case .setlkw: "SETLKW"
        case .access: "ACCESS"
        case .create: "CREATE"
        case .interrupt: "INTERRUPT"
        case .bmap: "BMAP"
        case .destroy: "DESTROY"
        case .ioctl: "IOCTL"
        case .poll: "POLL"
        case .notifyReply: "NOTIFY_REPLY"
        case .batchForget: "BATCH_FORGET"
        case .fallocate: "FALLOCATE"
        case .readdirplus: "READDIRPLUS"
        case .rename2: "RENAME2"
        case .lseek: "LSEEK"
        case .copyFileRange: "COPY_FILE_RANGE"
        case .setupMapping: "SETUPMAPPING"
        case .removeMapping: "REMOVEMAPPING"
        case .syncfs: "SYNCFS"
        case .tmpfile: "TMPFILE"
        }
    }

    /// The name of an opcode number, known or not ("op99").
    public static func name(of code: UInt32) -> String {
        FuseOpcode(rawValue: code)?.name ?? "op\(code)"
    }
}
