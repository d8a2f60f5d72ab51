import FuseServer
import Synchronization

/// Which nodes may have DAX mappings, readable without the mapping table's
/// lock, so a WRITE to a file with none never waits for that lock (which a
/// fill or write-back of another file's mapping may hold). Per bucket of node
/// ids, the slots mapped or being mapped: zero means the node has none; more
/// may be another node's in the same bucket, and the table then looks.
final class MappedNodeFilter: Sendable {
    private let counts: InlineArray<256, Atomic<Int>>

    init() { counts = InlineArray { _ in Atomic(0) } }

    private static func bucket(_ node: NodeID) -> Int {
        Int(truncatingIfNeeded: (node.rawValue &* 0x9E37_79B9_7F4A_7C15) >> 56) // Fibonacci hashing: 8 bits
    }

    /// Counts `slots` more for `node`: done before a mapping is filled, so a
    /// change the daemon makes while it fills finds the node mapped afterwards.
    func add(_ node: NodeID, slots: Int = 1) {
        counts[Self.bucket(node)].add(slots, ordering: .sequentiallyConsistent)
    }

    func remove(_ node: NodeID, slots: Int = 1) {
        counts[Self.bucket(node)].subtract(slots, ordering: .sequentiallyConsistent)
    }

    /// False only when `node` has no mapping and none is being made.
    func mayBeMapped(_ node: NodeID) -> Bool {
        counts[Self.bucket(node)].load(ordering: .sequentiallyConsistent) != 0
    }
}
