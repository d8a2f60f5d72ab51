// What the filesystems a server backs (FUSE, 9P) share: every node is of one class
// that keeps its kind, so an operation's first checks need no round trip, and create
// opens a name that already exists instead of asking the server to create it.

/// A node whose kind is kept with it (a node's kind never changes).
protocol KindKeepingNode: VNode {
    var kind: FileKind { get }
}

protocol ServerFileSystem: FileSystem {
    associatedtype Node: KindKeepingNode
}

extension ServerFileSystem {
    /// `node` as one of ours: EXDEV for another filesystem's node.
    func ownNode(_ node: VNode) throws(Errno) -> Node {
        guard let own = node as? Node else { throw .EXDEV }
        return own
    }

    /// `node` as one of our directories: EXDEV or ENOTDIR otherwise.
    func directoryNode(_ node: VNode) throws(Errno) -> Node {
        let directory = try ownNode(node)
        guard directory.kind == .directory else { throw .ENOTDIR }
        return directory
    }

    /// open(2)'s rule for O_CREAT without O_EXCL: an existing `name` is opened (without
    /// .create). nil: create it (`flags` has .exclusive, or the name is not there, or was
    /// gone by the time it was opened).
    func openExisting(_ name: String, in parent: Node, flags: OpenFlags) throws(Errno) -> OpenFile? {
        guard !flags.contains(.exclusive) else { return nil }
        do {
            let existing = try lookup(name, in: parent)
            var openFlags = flags
            openFlags.remove([.create, .exclusive])
            return try open(existing, flags: openFlags)
        } catch {
            guard error == .ENOENT else { throw error }
            return nil
        }
    }
}
