import FuseServer
import Glibc

/// A file the guest opened: a real (non-O_PATH) descriptor, reopened from
/// the node's O_PATH descriptor through /proc/self/fd.
final class OpenFile: Sendable {
    let fd: Int32
    let node: NodeID

    init(fd: Int32, node: NodeID) { self.fd = fd; self.node = node }
    deinit { close(fd) }
}
