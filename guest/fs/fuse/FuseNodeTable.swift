// The guest's cache of server inodes and directory entries:
//   nodes:   node id -> FuseNode (with the lookup count we owe the server)
//   entries: (parent id, name) -> node, valid until the server's entry_valid timeout
// Path lookups hit `entries` and only go to the server when an entry is
// missing or expired. A node no entry names and nothing holds open is
// forgotten (FORGET with its whole lookup count) and dropped.

struct FuseEntryKey: Hashable {
    let parent: UInt64
    let name: String
}

struct FuseCachedEntry {
    let node: FuseNode
    var validUntil: UInt64
}

final class FuseNodeTable {
    private let session: FuseSession
    private var nodes: [UInt64: FuseNode] = [:]
    private var entries: [FuseEntryKey: FuseCachedEntry] = [:]
    let root: FuseNode
    /// Above this many entries, expired ones are swept out.
    static let sweepThreshold = 4096
    /// Hard cap on cached entries: each one holds a lookup, and servers keep a file
    /// descriptor per looked-up inode (virtiofsd runs out near RLIMIT_NOFILE).
    static let maxEntries = 8192
    private var sweepAt = FuseNodeTable.sweepThreshold
    /// Called for a node about to be forgotten, before its FORGET is queued (DAX unmaps its ranges).
    var willForget: ((_ nodeID: UInt64) -> Void)? = nil

    init(session: FuseSession) {
        self.session = session
        var rootAttributes = FileStat()
        rootAttributes.kind = .directory
        rootAttributes.inode = FuseProtocol.rootNodeID
        root = FuseNode(nodeID: FuseProtocol.rootNodeID, attributes: rootAttributes)
        nodes[root.nodeID] = root
    }

    var nodeCount: Int { nodes.count }
    var entryCount: Int { entries.count }

    /// The cached node for `name` in `parent` if its entry is still valid.
    func cachedEntry(_ name: String, in parent: FuseNode) -> FuseNode? {
        guard let entry = entries[FuseEntryKey(parent: parent.nodeID, name: name)] else { return nil }
        guard monotonicNanoseconds() < entry.validUntil else { return nil }
        return entry.node
    }

    /// Records a fuse_entry_out the server counted as one lookup (LOOKUP, CREATE, MKDIR,
    /// READDIRPLUS). Returns the node; a node id of 0 is a negative entry and is not cached.
    @discardableResult
    func record(_ entry: FuseEntryOut, name: String, in parent: FuseNode) -> FuseNode? {
        guard entry.nodeID != 0 else {
            removeEntry(name, in: parent)
            return nil
        }
        let node: FuseNode
        if let known = nodes[entry.nodeID] {
            node = known
        } else {
            node = FuseNode(nodeID: entry.nodeID, attributes: FileStat(fuse: entry.attr))
            nodes[entry.nodeID] = node
        }
        node.lookupCount += 1
        node.updateAttributes(entry.attr, validSeconds: entry.attrValid, validNanoseconds: entry.attrValidNsec)
        let key = FuseEntryKey(parent: parent.nodeID, name: name)
        let validUntil = validityDeadline(seconds: entry.entryValid, nanoseconds: entry.entryValidNsec)
        if let previous = entries[key], previous.node === node {
            entries[key] = FuseCachedEntry(node: node, validUntil: validUntil)
        } else {
            let previous = entries.updateValue(FuseCachedEntry(node: node, validUntil: validUntil), forKey: key)
            node.cachedNames += 1
            if let previous = previous { release(previous.node, names: 1) }
        }
        return node
    }

    /// Forgets the entry `name` in `parent` (after UNLINK, RMDIR, or a failed LOOKUP).
    func removeEntry(_ name: String, in parent: FuseNode) {
        guard let previous = entries.removeValue(forKey: FuseEntryKey(parent: parent.nodeID, name: name)) else { return }
        release(previous.node, names: 1)
    }

    /// Moves a cached entry after RENAME; whatever the target name cached is dropped.
    func moveEntry(_ name: String, in parent: FuseNode, to newName: String, in newParent: FuseNode) {
        let moved = entries.removeValue(forKey: FuseEntryKey(parent: parent.nodeID, name: name))
        let replaced = entries.removeValue(forKey: FuseEntryKey(parent: newParent.nodeID, name: newName))
        if let moved = moved {
            entries[FuseEntryKey(parent: newParent.nodeID, name: newName)] = moved
        }
        if let replaced = replaced { release(replaced.node, names: 1) }
    }

    func opened(_ node: FuseNode) { node.openCount += 1 }

    func closed(_ node: FuseNode) {
        node.openCount -= 1
        dropIfUnused(node)
    }

    private func release(_ node: FuseNode, names: Int) {
        node.cachedNames -= names
        dropIfUnused(node)
    }

    private func dropIfUnused(_ node: FuseNode) {
        guard !node.isReferenced else { return }
        willForget?(node.nodeID)
        session.forget(nodeID: node.nodeID, count: node.lookupCount)
        node.lookupCount = 0
        nodes.removeValue(forKey: node.nodeID)
    }

    /// Drops every entry and marks all attributes stale; nodes still open stay known.
    func dropAll() {
        let all = entries
        entries.removeAll()
        for (_, entry) in all { release(entry.node, names: 1) }
        for (_, node) in nodes { node.attributesValidUntil = 0 }
    }

    /// Keeps the cache bounded; only called between operations (no node is in use then
    /// except open ones, which are never dropped).
    func housekeeping() {
        if entries.count >= sweepAt { sweepExpired() }
        if entries.count > FuseNodeTable.maxEntries {
            var victims: [FuseEntryKey] = []
            for (key, entry) in entries where entry.node.openCount == 0 { victims.append(key) }
            for key in victims {
                if let entry = entries.removeValue(forKey: key) { release(entry.node, names: 1) }
            }
            sweepAt = max(FuseNodeTable.sweepThreshold, entries.count * 2)
        }
    }

    /// Drops expired entries so the cache stays bounded by what is in recent use.
    private func sweepExpired() {
        let now = monotonicNanoseconds()
        var expired: [FuseEntryKey] = []
        for (key, entry) in entries where entry.validUntil <= now { expired.append(key) }
        for key in expired {
            if let entry = entries.removeValue(forKey: key) { release(entry.node, names: 1) }
        }
        sweepAt = max(FuseNodeTable.sweepThreshold, entries.count * 2)
    }
}
