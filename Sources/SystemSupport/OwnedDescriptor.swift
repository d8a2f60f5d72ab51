import Glibc

/// A file descriptor this code owns: closed when the value goes away, unless
/// `release()` hands it on to a new owner.
public struct OwnedDescriptor: ~Copyable, Sendable {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Gives the descriptor up without closing it; the caller owns it now.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    deinit { close(rawValue) }
}
