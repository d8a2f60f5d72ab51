import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization

/// Identity of a host file: the same (st_dev, st_ino) is the same node.
struct InodeKey: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }
}

/// A host file the guest knows: an O_PATH descriptor (no read/write access,
/// opened without following symlinks) that every operation on the node is
/// relative to. Closed when the last reference goes, so a request in flight
/// keeps it valid even if a FORGET removes it from the store meanwhile.
final class Inode: Sendable {
    let node: NodeID
    let fd: Int32
    let key: InodeKey
    /// st_mode & S_IFMT when looked up (a file's type never changes).
    let fileType: UInt32

    init(node: NodeID, fd: Int32, key: InodeKey, fileType: UInt32) {
        self.node = node; self.fd = fd; self.key = key; self.fileType = fileType
    }

    deinit { close(fd) }

    var isDirectory: Bool { fileType == LinuxFileMode.directory }
    var isRegularFile: Bool { fileType == LinuxFileMode.regular }
    var isSymlink: Bool { fileType == LinuxFileMode.symlink }
}

/// The node table: node id → inode with the number of lookups the kernel
/// holds, and (dev, ino) → node id so a file has one node however it is
/// reached. One mutex, held only for dictionary work, never around syscalls.
final class InodeStore: Sendable {
    private struct Record {
        let inode: Inode
        var lookups: UInt64
    }
    private struct Tables {
        var byNode: [NodeID: Record] = [:]
        var byKey: [InodeKey: NodeID] = [:]
        var nextNode: UInt64 = NodeID.root.rawValue + 1
    }

    let root: Inode
    private let tables = Mutex(Tables())

    init(root: Inode) { self.root = root }

    /// The inode of `node`; EBADF for ids never issued or already forgotten.
    func inode(_ node: NodeID) throws(Errno) -> Inode {
        if node == .root { return root }
        guard let inode = tables.withLock({ $0.byNode[node]?.inode }) else { throw Errno.badHandle }
        return inode
    }

    /// The node already known for `key`, if any (no lookup counted).
    func known(_ key: InodeKey) -> Inode? {
        if key == root.key { return root }
        return tables.withLock { tables in tables.byKey[key].flatMap { tables.byNode[$0]?.inode } }
    }

    /// Counts one lookup of an already known file; nil if it is new.
    func referenceIfKnown(_ key: InodeKey) -> Inode? {
        if key == root.key { return root }
        return tables.withLock { tables in
            guard let node = tables.byKey[key], var record = tables.byNode[node] else { return nil }
            record.lookups += 1
            tables.byNode[node] = record
            return record.inode
        }
    }

    /// Counts one lookup of the file `fd` refers to, adding it if new. Returns
    /// the inode and whether `fd` was adopted; if not, the caller closes it.
    func reference(fd: Int32, stat st: stat) -> (inode: Inode, adopted: Bool) {
        let key = InodeKey(st)
        if key == root.key { return (root, false) }
        return tables.withLock { tables in
            if let node = tables.byKey[key], var record = tables.byNode[node] {
                record.lookups += 1
                tables.byNode[node] = record
                return (record.inode, false)
            }
            let node = NodeID(tables.nextNode)
            tables.nextNode += 1
            let inode = Inode(node: node, fd: fd, key: key, fileType: UInt32(st.st_mode) & LinuxFileMode.typeMask)
            tables.byNode[node] = Record(inode: inode, lookups: 1)
            tables.byKey[key] = node
            return (inode, true)
        }
    }

    /// Counts one more lookup of an inode the caller holds ("." and ".."),
    /// returning the inode the table has for that file (re-added if a FORGET
    /// removed it meanwhile). The root is not counted.
    func referenceAgain(_ inode: Inode) -> Inode {
        if inode.node == .root { return inode }
        return tables.withLock { tables in
            let node = tables.byKey[inode.key] ?? inode.node
            if var record = tables.byNode[node] {
                record.lookups += 1
                tables.byNode[node] = record
                return record.inode
            }
            tables.byNode[inode.node] = Record(inode: inode, lookups: 1)
            tables.byKey[inode.key] = inode.node
            return inode
        }
    }

    /// Drops `count` lookups; the node goes when none remain. A count larger
    /// than what was given is clamped; unknown nodes and the root are ignored.
    /// Returns whether the node was removed.
    @discardableResult
    func forget(_ node: NodeID, count: UInt64) -> Bool {
        if node == .root { return false }
        // The inode is released after the lock (its deinit closes a descriptor).
        let removed: Inode? = tables.withLock { tables in
            guard var record = tables.byNode[node] else { return nil }
            record.lookups -= min(count, record.lookups)
            if record.lookups > 0 {
                tables.byNode[node] = record
                return nil
            }
            tables.byNode[node] = nil
            if tables.byKey[record.inode.key] == node { tables.byKey[record.inode.key] = nil }
            return record.inode
        }
        return removed != nil
    }

    /// Lookups the kernel holds on `node` (for tests and diagnostics).
    func lookupCount(_ node: NodeID) -> UInt64? {
        tables.withLock { $0.byNode[node]?.lookups }
    }

    var count: Int { tables.withLock { $0.byNode.count } }

    /// Forgets every node but the root (DESTROY, new session).
    func removeAll() {
        let old = tables.withLock { tables -> Tables in
            let old = tables
            tables.byNode = [:]
            tables.byKey = [:]
            return old
        }
        _ = old // released here, outside the lock
    }
}
