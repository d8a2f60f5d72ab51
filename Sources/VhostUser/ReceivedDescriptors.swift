import Glibc
import SystemSupport

/// The descriptors that came with one vhost-user message. The message owns
/// them: whichever the handler does not `take` are closed with it, on every
/// path, including a malformed message refused half-way.
public final class ReceivedDescriptors {
    /// nil once taken.
    private var fds: [Int32?]

    public init(_ fds: [Int32]) { self.fds = fds }

    public var count: Int { fds.count }
    public var isEmpty: Bool { fds.isEmpty }

    /// The descriptor at `index`, still owned by the message (valid while it lives).
    public subscript(index: Int) -> Int32 {
        guard let fd = fds[index] else { preconditionFailure("descriptor \(index) was taken") }
        return fd
    }

    /// Moves the descriptor at `index` out of the message.
    public func take(_ index: Int) -> OwnedDescriptor {
        guard let fd = fds[index] else { preconditionFailure("descriptor \(index) taken twice") }
        fds[index] = nil
        return OwnedDescriptor(fd)
    }

    // Raw: an Array cannot hold ~Copyable OwnedDescriptors, so this class is their owner.
    deinit { for case let fd? in fds { close(fd) } }
}
