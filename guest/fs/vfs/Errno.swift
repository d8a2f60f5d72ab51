// POSIX error numbers with Linux values: every file system call reports
// failure as one of these, so C callers can get them back as -errno.

struct Errno: Error, Equatable {
    let code: Int32

    init(_ code: Int32) { self.code = code }

    static let EPERM = Errno(1)
    static let ENOENT = Errno(2)
    static let EIO = Errno(5)
    static let ENXIO = Errno(6)
    static let EBADF = Errno(9)
    static let ENOMEM = Errno(12)
    static let EACCES = Errno(13)
    static let EBUSY = Errno(16)
    static let EEXIST = Errno(17)
    static let EXDEV = Errno(18)
    static let ENOTDIR = Errno(20)
    static let EISDIR = Errno(21)
    static let EINVAL = Errno(22)
    static let EMFILE = Errno(24)
    static let EFBIG = Errno(27)
    static let ENOSPC = Errno(28)
    static let ESPIPE = Errno(29)
    static let EROFS = Errno(30)
    static let ENAMETOOLONG = Errno(36)
    static let ENOSYS = Errno(38)
    static let ENOTEMPTY = Errno(39)
    static let EPROTO = Errno(71)
    static let EOVERFLOW = Errno(75)
    static let EOPNOTSUPP = Errno(95)

    /// Symbolic name for log lines ("ENOENT"), or the number.
    var name: String {
        switch code {
        case 1: return "EPERM"
        case 2: return "ENOENT"
        case 5: return "EIO"
        case 6: return "ENXIO"
        case 9: return "EBADF"
        case 12: return "ENOMEM"
        case 13: return "EACCES"
        case 16: return "EBUSY"
        case 17: return "EEXIST"
        case 18: return "EXDEV"
        case 20: return "ENOTDIR"
        case 21: return "EISDIR"
        case 22: return "EINVAL"
        case 24: return "EMFILE"
        case 27: return "EFBIG"
        case 28: return "ENOSPC"
        case 29: return "ESPIPE"
        case 30: return "EROFS"
        case 36: return "ENAMETOOLONG"
        case 38: return "ENOSYS"
        case 39: return "ENOTEMPTY"
        case 71: return "EPROTO"
        case 75: return "EOVERFLOW"
        case 95: return "EOPNOTSUPP"
        default: return "errno \(code)"
        }
    }
}
