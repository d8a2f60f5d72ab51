import FuseServer
import SystemSupport

/// A file the guest opened: a real (non-O_PATH) descriptor, reopened from
/// the node's O_PATH descriptor through /proc/self/fd.
final class OpenFile: Sendable {
    private let owned: OwnedDescriptor
    let node: NodeID
    /// Set when the guest opened the file with O_APPEND (see AppendOrder).
    let appendOrder: AppendOrder?

    init(_ owned: consuming OwnedDescriptor, node: NodeID, appendOrder: AppendOrder? = nil) {
        self.owned = owned
        self.node = node
        self.appendOrder = appendOrder
    }

    var fd: Int32 { owned.rawValue }
}
