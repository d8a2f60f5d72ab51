// The mount table and path resolution: turns an absolute path into a
// filesystem and a node (or a parent directory and a name) and nothing else.
// Mount points are directories of the filesystem below, shadowed by the
// mounted root, so listing "/" shows them.

final class VirtualFileSystem {
    struct Mount {
        let components: [String]
        let fileSystem: FileSystem
    }

    /// Longest mount path first, so the first prefix match is the right one.
    private(set) var mounts: [Mount]
    /// The mounted filesystems whose housekeeping() does something.
    private var housekeepingFileSystems: [FileSystem] = []

    init(root: FileSystem) {
        mounts = [Mount(components: [], fileSystem: root)]
        if root.needsHousekeeping { housekeepingFileSystems.append(root) }
    }

    /// Mounts `fileSystem` over the existing directory `path`.
    func mount(_ fileSystem: FileSystem, at path: String) throws(Errno) {
        let name = try PathName(parsing: path)
        guard !name.isRoot else { throw .EBUSY }
        let (below, node) = try resolve(name)
        guard try below.kind(of: node) == .directory else { throw .ENOTDIR }
        guard !mounts.contains(where: { $0.components == name.components }) else { throw .EBUSY }
        mounts.append(Mount(components: name.components, fileSystem: fileSystem))
        mounts.sort { $0.components.count > $1.components.count }
        if fileSystem.needsHousekeeping { housekeepingFileSystems.append(fileSystem) }
    }

    func fileSystem(mountedAt path: String) -> FileSystem? {
        guard let name = try? PathName(parsing: path) else { return nil }
        return mounts.first(where: { $0.components == name.components })?.fileSystem
    }

    /// The filesystem holding `components` and how many leading components its mount point
    /// consumed. Indexed loops: iterating copies of Mount costs retains and releases on every
    /// path call.
    private func mount(for components: [String]) -> (FileSystem, Int) {
        for mountIndex in mounts.indices {
            let prefix = mounts[mountIndex].components
            guard prefix.count <= components.count else { continue }
            var matched = 0
            while matched < prefix.count && components[matched] == prefix[matched] { matched += 1 }
            if matched == prefix.count { return (mounts[mountIndex].fileSystem, matched) }
        }
        return (mounts[mounts.count - 1].fileSystem, 0)
    }

    func resolve(_ path: String) throws(Errno) -> (FileSystem, VNode) {
        try resolve(try PathName(parsing: path))
    }

    func resolve(_ name: PathName) throws(Errno) -> (FileSystem, VNode) {
        let (fileSystem, consumed) = mount(for: name.components)
        var node = fileSystem.rootNode
        var index = consumed
        while index < name.components.count {
            node = try fileSystem.lookup(name.components[index], in: node)
            index += 1
        }
        if name.mustBeDirectory && index > consumed, try fileSystem.kind(of: node) != .directory {
            throw .ENOTDIR
        }
        return (fileSystem, node)
    }

    /// The directory holding the last component, and that component. EBUSY for "/" and
    /// mount points, which cannot be created, removed or renamed.
    func resolveParent(_ path: String) throws(Errno) -> (FileSystem, VNode, String) {
        var name = try PathName(parsing: path)
        guard let last = name.components.last else { throw .EBUSY }
        if mounts.contains(where: { $0.components == name.components }) { throw .EBUSY }
        name.components.removeLast()
        name.mustBeDirectory = false
        let (fileSystem, directory) = try resolve(name)
        return (fileSystem, directory, last)
    }

    /// Between operations: let every filesystem trim its caches (Posix calls this first).
    func housekeeping() {
        for fileSystem in housekeepingFileSystems { fileSystem.housekeeping() }
    }

    func dropCachesAll() throws(Errno) {
        for mount in mounts { try mount.fileSystem.dropCaches() }
    }

    /// sync(): every mounted filesystem; returns the first error.
    func synchronizeAll() throws(Errno) {
        var firstError: Errno? = nil
        for mount in mounts {
            do { try mount.fileSystem.synchronize() } catch { if firstError == nil { firstError = error } }
        }
        if let error = firstError { throw error }
    }
}
