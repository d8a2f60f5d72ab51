// A virtio-9p share as a VFS filesystem, speaking 9P2000.L as Linux's v9fs does:
// a name costs Twalk + Tgetattr (cached for a second, NinePNameCache), opening
// clones the node's fid (Twalk with no names) and Tlopens the clone, creating
// Tlcreates a clone of the directory's fid; data moves in Tread/Twrite of up to
// msize - 24 bytes straight between the device and the caller's buffer, with no
// read-ahead or write-behind (9P has no such cache protocol; Linux's cache=none).

final class NinePFileSystem: FileSystem, ServerFileSystem {
    typealias Node = NinePNode

    let session: NinePSession
    let names = NinePNameCache()
    let root: NinePNode
    let tag: String
    /// One buffer for Rreaddir data, shared by all directory streams (each decodes a batch at once).
    let directoryBuffer: UnsafeMutableRawBufferPointer

    static let directoryBufferSize = 64 * 1024

    init(device: VirtioNinePDevice) throws(Errno) {
        session = try NinePSession(device: device)
        tag = device.tag
        var answer = try session.call(.getattr(fid: NinePSession.rootFid, requestMask: NinePGetattrMask.basic))
        let attributes = FileStat(ninep: try answer.attributes())
        try answer.end()
        guard attributes.kind == .directory else { throw .ENOTDIR }
        root = NinePNode(session: session, fid: NinePSession.rootFid, parent: nil, attributes: attributes)
        directoryBuffer = .allocate(byteCount: NinePFileSystem.directoryBufferSize, alignment: 64)
    }

    override var name: String { "9p:" + tag }
    var sessionSummary: String { session.summary }
    override var rootNode: VNode { root }

    /// Linux open flags for Tlopen/Tlcreate: we implement O_APPEND ourselves (offsets are
    /// ours); Tlopen never carries O_CREAT/O_EXCL.
    private func serverFlags(_ flags: OpenFlags, creating: Bool) -> UInt32 {
        let raw = UInt32(bitPattern: flags.rawValue)
        var wire = raw & NinePOpenFlags.accessModeMask
        if raw & LinuxOpenFlags.truncate != 0 { wire |= NinePOpenFlags.truncate }
        if creating {
            wire |= NinePOpenFlags.create
            if raw & LinuxOpenFlags.exclusive != 0 { wire |= NinePOpenFlags.exclusive }
        }
        return wire
    }

    /// Tgetattr on any fid (a node's or an open file's).
    func fetchAttributes(fid: UInt32) throws(Errno) -> FileStat {
        var answer = try session.call(.getattr(fid: fid, requestMask: NinePGetattrMask.basic))
        let attributes = FileStat(ninep: try answer.attributes())
        try answer.end()
        return attributes
    }

    /// Opens a fresh fid for the file `fid` names (Twalk with no names: an opened fid can no
    /// longer be walked from, so nodes keep theirs unopened) with `request` (Tlopen, or Tlcreate,
    /// which turns the directory fid it is given into the new file's): the new fid and the
    /// iounit; the new fid is clunked if the open fails.
    private func openClone(of fid: UInt32, _ request: (UInt32) -> NinePRequest) throws(Errno) -> (fid: UInt32, ioUnit: UInt32) {
        let clone = try session.walk(from: fid, names: []).fid
        do {
            var answer = try session.call(request(clone))
            _ = try answer.qid()
            let ioUnit = try answer.u32()
            try answer.end()
            return (clone, ioUnit)
        } catch {
            session.clunk(clone)
            throw error
        }
    }

    // MARK: Names

    override func lookup(_ name: String, in directory: VNode) throws(Errno) -> VNode {
        let parent = try directoryNode(directory)
        if let node = names.node(name, in: parent) { return node }
        let fid: UInt32
        do {
            fid = try session.walk(from: parent.fid, names: [name]).fid
        } catch {
            if error == .ENOENT { names.remove(name, in: parent) }
            throw error
        }
        let attributes: FileStat
        do {
            attributes = try fetchAttributes(fid: fid)
        } catch {
            session.clunk(fid)
            throw error
        }
        let node = NinePNode(session: session, fid: fid, parent: parent, attributes: attributes)
        node.knownSize = attributes.size
        node.attributesValidUntil = monotonicNanoseconds() &+ NinePNameCache.validityNanoseconds
        names.record(node, name: name, in: parent)
        return node
    }

    override func kind(of node: VNode) throws(Errno) -> FileKind { try ownNode(node).kind }

    override func attributes(of node: VNode) throws(Errno) -> FileStat {
        let target = try ownNode(node)
        if monotonicNanoseconds() < target.attributesValidUntil { return target.attributes }
        target.attributes = try fetchAttributes(fid: target.fid)
        target.knownSize = target.attributes.size
        target.attributesValidUntil = monotonicNanoseconds() &+ NinePNameCache.validityNanoseconds
        return target.attributes
    }

    override func setAttributes(of node: VNode, _ changes: AttributeChanges) throws(Errno) -> FileStat {
        let target = try ownNode(node)
        if changes.size != nil && target.kind != .regular { throw target.kind == .directory ? .EISDIR : .EINVAL }
        try setAttributes(fid: target.fid, changes)
        target.invalidateAttributes()
        if let size = changes.size { target.knownSize = size }
        return try attributes(of: target)
    }

    /// Tsetattr; times are set to the given values (P9_ATTR_*_SET), not "now".
    func setAttributes(fid: UInt32, _ changes: AttributeChanges) throws(Errno) {
        var wire = NinePSetAttributes()
        if let size = changes.size {
            wire.valid |= NinePSetattrMask.size
            wire.size = UInt64(size)
        }
        if let permissions = changes.permissions {
            wire.valid |= NinePSetattrMask.mode
            wire.mode = permissions & 0o7777
        }
        if let time = changes.accessTime {
            wire.valid |= NinePSetattrMask.atime | NinePSetattrMask.atimeSet
            wire.atimeSeconds = UInt64(bitPattern: time.seconds)
            wire.atimeNanoseconds = UInt64(time.nanoseconds)
        }
        if let time = changes.modificationTime {
            wire.valid |= NinePSetattrMask.mtime | NinePSetattrMask.mtimeSet
            wire.mtimeSeconds = UInt64(bitPattern: time.seconds)
            wire.mtimeNanoseconds = UInt64(time.nanoseconds)
        }
        let answer = try session.call(.setattr(fid: fid, attributes: wire))
        try answer.end()
    }

    // MARK: Files

    override func open(_ node: VNode, flags: OpenFlags) throws(Errno) -> OpenFile {
        let target = try ownNode(node)
        guard target.kind != .directory else { throw .EISDIR }
        let (fid, ioUnit) = try openClone(of: target.fid) {
            .lopen(fid: $0, flags: serverFlags(flags, creating: false))
        }
        if flags.contains(.truncate) && flags.canWrite {
            target.invalidateAttributes()
            target.knownSize = 0
        }
        return NinePOpenFile(fileSystem: self, fid: fid, node: target, ioUnit: ioUnit)
    }

    override func create(_ name: String, in directory: VNode, permissions: UInt32, flags: OpenFlags) throws(Errno) -> OpenFile {
        let parent = try directoryNode(directory)
        if let existing = try openExisting(name, in: parent, flags: flags) { return existing }
        let (fid, ioUnit) = try openClone(of: parent.fid) {
            .lcreate(fid: $0, name: name, flags: serverFlags(flags, creating: true),
                     mode: FileKind.regular.modeBits | (permissions & 0o7777), gid: 0)
        }
        parent.invalidateAttributes()
        names.remove(name, in: parent)
        return NinePOpenFile(fileSystem: self, fid: fid, node: nil, ioUnit: ioUnit)
    }

    // MARK: Directories

    override func makeDirectory(_ name: String, in directory: VNode, permissions: UInt32) throws(Errno) {
        let parent = try directoryNode(directory)
        var answer = try session.call(.mkdir(directoryFid: parent.fid, name: name,
                                             mode: FileKind.directory.modeBits | (permissions & 0o7777), gid: 0))
        _ = try answer.qid()
        try answer.end()
        parent.invalidateAttributes()
        names.remove(name, in: parent)
    }

    override func removeFile(_ name: String, in directory: VNode) throws(Errno) {
        try remove(name, in: directory, flags: 0)
    }

    override func removeDirectory(_ name: String, in directory: VNode) throws(Errno) {
        try remove(name, in: directory, flags: ninePRemoveDirectoryFlag)
    }

    private func remove(_ name: String, in directory: VNode, flags: UInt32) throws(Errno) {
        let parent = try directoryNode(directory)
        names.node(name, in: parent)?.invalidateAttributes()   // its link count changes
        let answer = try session.call(.unlinkat(directoryFid: parent.fid, name: name, flags: flags))
        try answer.end()
        parent.invalidateAttributes()
        names.remove(name, in: parent)
    }

    override func rename(_ name: String, in directory: VNode, to newName: String, in newDirectory: VNode) throws(Errno) {
        let parent = try directoryNode(directory)
        let newParent = try directoryNode(newDirectory)
        let answer = try session.call(.renameat(oldDirectoryFid: parent.fid, oldName: name,
                                                newDirectoryFid: newParent.fid, newName: newName))
        try answer.end()
        parent.invalidateAttributes()
        newParent.invalidateAttributes()
        // The server moves the fids it holds for the renamed file; our names are simply dropped.
        names.remove(name, in: parent)
        names.remove(newName, in: newParent)
    }

    override func openDirectory(_ node: VNode) throws(Errno) -> DirectoryStream {
        let directory = try directoryNode(node)
        let (fid, _) = try openClone(of: directory.fid) {
            .lopen(fid: $0, flags: NinePOpenFlags.readOnly | NinePOpenFlags.directory)
        }
        return NinePDirectoryStream(fileSystem: self, directory: directory, fid: fid)
    }

    override func statistics() throws(Errno) -> FileSystemStats {
        var answer = try session.call(.statfs(fid: root.fid))
        let wire = try answer.fileSystemStats()
        try answer.end()
        var stats = FileSystemStats()
        stats.blockSize = wire.blockSize
        stats.totalBlocks = wire.blocks
        stats.freeBlocks = wire.freeBlocks
        stats.availableBlocks = wire.availableBlocks
        stats.totalFiles = wire.files
        stats.freeFiles = wire.freeFiles
        stats.maxNameLength = wire.nameLength
        return stats
    }

    override func synchronize() throws(Errno) { session.flushClunks() }

    override var needsHousekeeping: Bool { true }

    override func housekeeping() {
        names.housekeeping()
        if session.hasPendingClunks { session.flushClunks() }
    }

    override func dropCaches() throws(Errno) {
        names.removeAll()
        root.invalidateAttributes()
        session.flushClunks()
    }
}
