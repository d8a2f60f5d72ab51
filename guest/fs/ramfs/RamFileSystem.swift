// A filesystem kept entirely in guest memory: mounted at /ram, and also the
// root filesystem that holds the mount points.

final class RamFileSystem: FileSystem {
    private let label: String
    private let root: RamDirectory
    private var nextInode: UInt64 = 2
    private(set) var fileCount: UInt64 = 1

    init(label: String = "ramfs") {
        self.label = label
        root = RamDirectory(inode: 1, permissions: 0o755, parent: nil)
    }

    override var name: String { label }
    override var rootNode: VNode { root }

    private func allocateInode() -> UInt64 {
        defer { nextInode += 1 }
        return nextInode
    }

    private func directory(_ node: VNode) throws(Errno) -> RamDirectory {
        guard let directory = node as? RamDirectory else { throw .ENOTDIR }
        return directory
    }

    private func ramNode(_ node: VNode) throws(Errno) -> RamNode {
        guard let ramNode = node as? RamNode else { throw .EXDEV }
        return ramNode
    }

    override func lookup(_ name: String, in directoryNode: VNode) throws(Errno) -> VNode {
        guard let node = try directory(directoryNode)[name] else { throw .ENOENT }
        return node
    }

    override func attributes(of node: VNode) throws(Errno) -> FileStat {
        try ramNode(node).attributes
    }

    override func kind(of node: VNode) throws(Errno) -> FileKind { try ramNode(node).kind }

    override func setAttributes(of node: VNode, _ changes: AttributeChanges) throws(Errno) -> FileStat {
        let target = try ramNode(node)
        if let size = changes.size {
            guard let file = target as? RamFile else { throw .EISDIR }
            try file.truncate(to: size)
        }
        if let permissions = changes.permissions { target.permissions = permissions & 0o7777 }
        if let time = changes.accessTime { target.accessTime = time }
        if let time = changes.modificationTime { target.modificationTime = time }
        target.changeTime = FileTime.now()
        return target.attributes
    }

    override func open(_ node: VNode, flags: OpenFlags) throws(Errno) -> OpenFile {
        guard let file = node as? RamFile else { throw .EISDIR }
        if flags.contains(.truncate) && flags.canWrite && file.size > 0 { try file.truncate(to: 0) }
        return RamOpenFile(file)
    }

    override func create(_ name: String, in directoryNode: VNode, permissions: UInt32, flags: OpenFlags) throws(Errno) -> OpenFile {
        let parent = try directory(directoryNode)
        if let existing = parent[name] {
            if flags.contains(.exclusive) { throw .EEXIST }
            return try open(existing, flags: flags)
        }
        let file = RamFile(inode: allocateInode(), permissions: permissions, linkCount: 0)
        parent.insert(file, as: name)
        fileCount += 1
        return RamOpenFile(file)
    }

    override func makeDirectory(_ name: String, in directoryNode: VNode, permissions: UInt32) throws(Errno) {
        let parent = try directory(directoryNode)
        guard parent[name] == nil else { throw .EEXIST }
        parent.insert(RamDirectory(inode: allocateInode(), permissions: permissions, parent: parent), as: name)
        fileCount += 1
    }

    override func removeFile(_ name: String, in directoryNode: VNode) throws(Errno) {
        let parent = try directory(directoryNode)
        guard let node = parent[name] else { throw .ENOENT }
        if node is RamDirectory { throw .EISDIR }
        parent.remove(name)   // open descriptors keep the RamFile alive until closed
        fileCount -= 1
    }

    override func removeDirectory(_ name: String, in directoryNode: VNode) throws(Errno) {
        let parent = try directory(directoryNode)
        guard let node = parent[name] else { throw .ENOENT }
        guard let victim = node as? RamDirectory else { throw .ENOTDIR }
        guard victim.isEmpty else { throw .ENOTEMPTY }
        parent.remove(name)
        fileCount -= 1
    }

    override func rename(_ name: String, in directoryNode: VNode, to newName: String, in newDirectoryNode: VNode) throws(Errno) {
        let source = try directory(directoryNode)
        let destination = try directory(newDirectoryNode)
        guard let moving = source[name] else { throw .ENOENT }
        let existing = destination[newName]
        if existing === moving { return }   // same file: POSIX says do nothing
        if let movingDirectory = moving as? RamDirectory {
            // A directory cannot move into its own subtree.
            if destination.isWithin(movingDirectory) { throw .EINVAL }
            if let existing = existing {
                guard let target = existing as? RamDirectory else { throw .ENOTDIR }
                guard target.isEmpty else { throw .ENOTEMPTY }
            }
        } else if existing is RamDirectory {
            throw .EISDIR
        }
        if existing != nil {
            destination.remove(newName)
            fileCount -= 1
        }
        _ = source.detach(name)
        destination.attach(moving, as: newName)
    }

    override func openDirectory(_ node: VNode) throws(Errno) -> DirectoryStream {
        let directory = try directory(node)
        directory.accessTime = FileTime.now()
        return RamDirectoryStream(directory.listing())
    }

    override func statistics() throws(Errno) -> FileSystemStats {
        var stats = FileSystemStats()
        // RAM is shared with everything else in the unikernel: report a nominal 1 GiB.
        stats.totalBlocks = 262_144
        stats.freeBlocks = 262_144
        stats.availableBlocks = 262_144
        stats.totalFiles = 1 << 32
        stats.freeFiles = (1 << 32) - fileCount
        return stats
    }
}

