import Glibc
import SwiftFSProtocol

/// A Linux errno value: the one error type of the FileSystem protocol. The
/// server negates it into fuse_out_header.error.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno (after a failed system call).
    @inlinable public static var current: Errno { Errno(errno) }

    public var description: String { "errno \(rawValue) (\(String(cString: strerror(rawValue))))" }

    public static let notPermitted = Errno(LinuxErrno.EPERM)
    public static let noEntry = Errno(LinuxErrno.ENOENT)
    public static let interrupted = Errno(LinuxErrno.EINTR)
    public static let ioError = Errno(LinuxErrno.EIO)
    public static let badHandle = Errno(LinuxErrno.EBADF)
    public static let tryAgain = Errno(LinuxErrno.EAGAIN)
    public static let noMemory = Errno(LinuxErrno.ENOMEM)
    public static let accessDenied = Errno(LinuxErrno.EACCES)
    public static let exists = Errno(LinuxErrno.EEXIST)
    public static let notDirectory = Errno(LinuxErrno.ENOTDIR)
    public static let isDirectory = Errno(LinuxErrno.EISDIR)
    public static let invalid = Errno(LinuxErrno.EINVAL)
    public static let readOnly = Errno(LinuxErrno.EROFS)
    public static let range = Errno(LinuxErrno.ERANGE)
    public static let nameTooLong = Errno(LinuxErrno.ENAMETOOLONG)
    public static let noLocks = Errno(LinuxErrno.ENOLCK)
    public static let notImplemented = Errno(LinuxErrno.ENOSYS)
    public static let noData = Errno(LinuxErrno.ENODATA)
    public static let protocolError = Errno(LinuxErrno.EPROTO)
    public static let notSupported = Errno(LinuxErrno.EOPNOTSUPP)
    public static let tooBig = Errno(LinuxErrno.E2BIG)
}
