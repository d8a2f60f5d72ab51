// A directory in RAM: a hash table from name to node (RamNameTable), so
// lookups stay O(1) with tens of thousands of entries.

final class RamDirectory: RamNode {
    private var entries = RamNameTable()
    /// Strong, so "..", the subtree check in rename and nlink work; rmdir clears it.
    var parent: RamDirectory?

    override var kind: FileKind { .directory }
    override var size: Int { 4096 }
    override var allocatedBytes: Int { 4096 }

    init(inode: UInt64, permissions: UInt32, parent: RamDirectory?) {
        self.parent = parent
        super.init(inode: inode, permissions: permissions, linkCount: 2)
    }

    var isEmpty: Bool { entries.isEmpty }

    subscript(name: String) -> RamNode? { entries[name] }

    /// Adds or replaces an entry and keeps link counts right.
    func insert(_ node: RamNode, as name: String) {
        entries.set(node, for: name)
        if let directory = node as? RamDirectory {
            // A directory has exactly one name; its 2 links (name and ".") come from init.
            directory.parent = self
            linkCount += 1   // the child's ".."
        } else {
            node.linkCount += 1
        }
        touchModified()
    }

    @discardableResult
    func remove(_ name: String) -> RamNode? {
        guard let node = entries.removeValue(for: name) else { return nil }
        node.changeTime = FileTime.now()
        if let directory = node as? RamDirectory {
            linkCount -= 1
            directory.linkCount = 0
            directory.parent = nil
        } else {
            node.linkCount -= 1
        }
        touchModified()
        return node
    }

    /// Detaches an entry for a rename without touching link counts of the moved node.
    func detach(_ name: String) -> RamNode? {
        guard let node = entries.removeValue(for: name) else { return nil }
        if node is RamDirectory { linkCount -= 1 }
        touchModified()
        return node
    }

    /// Attaches a node detached by `detach` (the counterpart of a rename).
    func attach(_ node: RamNode, as name: String) {
        entries.set(node, for: name)
        if let directory = node as? RamDirectory {
            directory.parent = self
            linkCount += 1
        }
        node.changeTime = FileTime.now()
        touchModified()
    }

    /// Whether `self` is `ancestor` or lies below it.
    func isWithin(_ ancestor: RamDirectory) -> Bool {
        var current: RamDirectory? = self
        while let directory = current {
            if directory === ancestor { return true }
            current = directory.parent
        }
        return false
    }

    /// A snapshot of the listing, so a directory can change while it is read.
    func listing() -> [DirectoryEntry] {
        var list: [DirectoryEntry] = []
        list.reserveCapacity(entries.count + 2)
        list.append(DirectoryEntry(name: ".", inode: inode, kind: .directory))
        list.append(DirectoryEntry(name: "..", inode: parent?.inode ?? inode, kind: .directory))
        entries.forEach { (name, node) in
            list.append(DirectoryEntry(name: name, inode: node.inode, kind: node.kind))
        }
        return list
    }
}
