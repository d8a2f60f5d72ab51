import Glibc
import SwiftFSProtocol

/// Host-only parts of protocol/Errno.swift's Errno: reading the C library's
/// errno, and its text for messages.
extension Errno: CustomStringConvertible {
    /// The calling thread's errno (after a failed system call).
    @inlinable public static var current: Errno { Errno(errno) }

    public var description: String { "\(name) (\(String(cString: strerror(rawValue))))" }
}
