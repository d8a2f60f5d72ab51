import FuseServer
import SystemSupport

/// A file the guest opened: a real (non-O_PATH) descriptor, reopened from
/// the node's O_PATH descriptor through /proc/self/fd.
final class OpenFile: Sendable {
    private let owned: OwnedDescriptor
    let node: NodeID

    init(_ owned: consuming OwnedDescriptor, node: NodeID) { self.owned = owned; self.node = node }

    var fd: Int32 { owned.rawValue }
}
