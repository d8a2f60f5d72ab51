// Linux errno numbers: the one error type of host and guest file system code.
// FUSE carries them negated in fuse_out_header.error; the guest's POSIX layer
// returns them negated to C callers. The guest has no libc, so the values are
// defined here once (the host's tests check them against its C library).

public struct Errno: Error, Hashable, Sendable {
    public var rawValue: Int32

    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = Errno(1)
    public static let ENOENT = Errno(2)
    public static let EINTR = Errno(4)
    public static let EIO = Errno(5)
    public static let ENXIO = Errno(6)
    public static let E2BIG = Errno(7)
    public static let EBADF = Errno(9)
    public static let EAGAIN = Errno(11)
    public static let ENOMEM = Errno(12)
    public static let EACCES = Errno(13)
    public static let EFAULT = Errno(14)
    public static let EBUSY = Errno(16)
    public static let EEXIST = Errno(17)
    public static let EXDEV = Errno(18)
    public static let ENODEV = Errno(19)
    public static let ENOTDIR = Errno(20)
    public static let EISDIR = Errno(21)
    public static let EINVAL = Errno(22)
    public static let ENFILE = Errno(23)
    public static let EMFILE = Errno(24)
    public static let EFBIG = Errno(27)
    public static let ENOSPC = Errno(28)
    public static let ESPIPE = Errno(29)
    public static let EROFS = Errno(30)
    public static let EMLINK = Errno(31)
    public static let ERANGE = Errno(34)
    public static let EDEADLK = Errno(35)
    public static let ENAMETOOLONG = Errno(36)
    public static let ENOLCK = Errno(37)
    public static let ENOSYS = Errno(38)
    public static let ENOTEMPTY = Errno(39)
    public static let ELOOP = Errno(40)
    public static let ENODATA = Errno(61)
    public static let EOVERFLOW = Errno(75)
    public static let EPROTO = Errno(71)
    public static let EOPNOTSUPP = Errno(95)

    /// The symbolic name for log lines ("ENOENT"), or "errno N".
    public var name: String {
        switch rawValue {
        case 1: return "EPERM"
        case 2: return "ENOENT"
        case 4: return "EINTR"
        case 5: return "EIO"
        case 6: return "ENXIO"
        case 7: return "E2BIG"
        case 9: return "EBADF"
        case 11: return "EAGAIN"
        case 12: return "ENOMEM"
        case 13: return "EACCES"
        case 14: return "EFAULT"
        case 16: return "EBUSY"
        case 17: return "EEXIST"
        case 18: return "EXDEV"
        case 19: return "ENODEV"
        case 20: return "ENOTDIR"
        case 21: return "EISDIR"
        case 22: return "EINVAL"
        case 23: return "ENFILE"
        case 24: return "EMFILE"
        case 27: return "EFBIG"
        case 28: return "ENOSPC"
        case 29: return "ESPIPE"
        case 30: return "EROFS"
        case 31: return "EMLINK"
        case 34: return "ERANGE"
        case 35: return "EDEADLK"
        case 36: return "ENAMETOOLONG"
        case 37: return "ENOLCK"
        case 38: return "ENOSYS"
        case 39: return "ENOTEMPTY"
        case 40: return "ELOOP"
        case 61: return "ENODATA"
        case 71: return "EPROTO"
        case 75: return "EOVERFLOW"
        case 95: return "EOPNOTSUPP"
        default: return "errno \(rawValue)"
        }
    }
}
