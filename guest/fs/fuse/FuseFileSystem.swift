// The virtio-fs share as a VFS filesystem: each VFS operation becomes one FUSE
// request (two for a cache miss on a path component). Names are looked up
// through FuseNodeTable so repeated paths cost no LOOKUP while the server's
// entry timeout holds.

final class FuseFileSystem: FileSystem, ServerFileSystem {
    typealias Node = FuseNode

    let session: FuseSession
    let table: FuseNodeTable
    let staging: FuseDataStaging
    /// The DAX window, when the device has one, the daemon granted FUSE_MAP_ALIGNMENT with
    /// ranges of 2 MiB or less, and the boot did not say dax=off.
    let dax: DaxWindow?
    /// Why DAX is off, for the mount message.
    let daxStatus: String
    let tag: String
    /// A single buffer for READDIR(PLUS) replies, shared by all directory streams.
    let directoryBuffer: UnsafeMutableRawBufferPointer
    var lseekSupported = true
    var flushSupported = true
    var fsyncSupported = true

    static let directoryBufferSize = 64 * 1024

    init(device: VirtioFSDevice, dataCaching: Bool = true, daxWanted: Bool = true) throws(Errno) {
        session = try FuseSession(device: device)
        table = FuseNodeTable(session: session)
        staging = FuseDataStaging(session: session, enabled: dataCaching)
        let choice = FuseFileSystem.daxWindow(session: session, device: device, wanted: daxWanted)
        dax = choice.window
        daxStatus = choice.status
        tag = device.tag
        directoryBuffer = .allocate(byteCount: FuseFileSystem.directoryBufferSize, alignment: 64)
        super.init()
        session.beforeRequest = { [unowned(unsafe) staging] (opcode: FuseOpcode) throws(Errno) in
            try staging.beforeRequest(opcode)
        }
        if let dax = dax {
            table.willForget = { [unowned(unsafe) dax] (nodeID: UInt64) in try? dax.drop(nodeID: nodeID) }
        }
        _ = try attributes(of: table.root)
    }

    override var name: String { "virtiofs:" + tag }
    var sessionSummary: String {
        session.summary + (staging.enabled ? ", read-ahead/write-behind" : ", no data staging") + ", " + daxSummary
    }
    var daxSummary: String { dax?.summary ?? daxStatus }
    /// Reads go through the DAX window (it exists and the daemon has not refused it).
    var daxActive: Bool { dax?.isActive ?? false }

    private static func daxWindow(session: FuseSession, device: VirtioFSDevice, wanted: Bool) -> (window: DaxWindow?, status: String) {
        guard let memory = device.cacheWindow else { return (nil, "DAX off (no window)") }
        guard wanted else { return (nil, "DAX off (dax=off)") }
        guard let alignment = session.mapAlignment else { return (nil, "DAX off (daemon did not grant FUSE_MAP_ALIGNMENT)") }
        guard alignment <= DaxWindow.rangeShift else { return (nil, "DAX off (daemon wants 2^\(alignment) alignment)") }
        guard let window = DaxWindow(session: session, memory: memory) else { return (nil, "DAX off (window below 2 MiB)") }
        return (window, "")
    }
    override var rootNode: VNode { table.root }

    /// Linux open flags for the server: we implement O_APPEND ourselves (offsets are ours),
    /// OPEN never carries O_CREAT/O_EXCL, and O_TRUNC only travels if the server handles it.
    private func serverFlags(_ flags: OpenFlags, creating: Bool) -> UInt32 {
        var raw = UInt32(bitPattern: flags.rawValue) & ~LinuxOpenFlags.append
        if !creating { raw &= ~(LinuxOpenFlags.create | LinuxOpenFlags.exclusive | LinuxOpenFlags.noControllingTTY) }
        if !creating && !session.hasAtomicTruncate { raw &= ~LinuxOpenFlags.truncate }
        return raw
    }

    // MARK: Names

    override func lookup(_ name: String, in directory: VNode) throws(Errno) -> VNode {
        let parent = try directoryNode(directory)
        if let node = table.cachedEntry(name, in: parent) { return node }
        var writer = try session.begin(.lookup, nodeID: parent.nodeID)
        try FuseSession.writeName(name, into: &writer)
        var reply: FuseReply
        do {
            reply = try session.complete(writer)
        } catch {
            if error == .ENOENT { table.removeEntry(name, in: parent) }
            throw error
        }
        guard let node = table.record(try reply.read(FuseEntryOut.self), name: name, in: parent) else { throw .ENOENT }
        return node
    }

    override func kind(of node: VNode) throws(Errno) -> FileKind { try ownNode(node).kind }

    override func attributes(of node: VNode) throws(Errno) -> FileStat {
        let target = try ownNode(node)
        if monotonicNanoseconds() < target.attributesValidUntil { return target.attributes }
        var writer = try session.begin(.getattr, nodeID: target.nodeID)
        writer.write(FuseGetattrIn())
        var reply = try session.complete(writer)
        let out = try reply.read(FuseAttrOut.self)
        target.updateAttributes(out.attr, validSeconds: out.attrValid, validNanoseconds: out.attrValidNsec)
        return target.attributes
    }

    override func setAttributes(of node: VNode, _ changes: AttributeChanges) throws(Errno) -> FileStat {
        try setAttributes(of: try ownNode(node), changes, handle: nil)
    }

    func setAttributes(of target: FuseNode, _ changes: AttributeChanges, handle: UInt64?) throws(Errno) -> FileStat {
        var arguments = FuseSetattrIn()
        var valid = FuseSetattrValid()
        if let handle = handle {
            valid.insert(.fh)
            arguments.fh = handle
        }
        if let size = changes.size {
            guard target.kind == .regular else { throw target.kind == .directory ? .EISDIR : .EINVAL }
            valid.insert(.size)
            arguments.size = UInt64(size)
        }
        if let permissions = changes.permissions {
            valid.insert(.mode)
            arguments.mode = target.kind.modeBits | (permissions & 0o7777)
        }
        if let time = changes.accessTime {
            valid.insert(.atime)
            arguments.atime = UInt64(bitPattern: time.seconds)
            arguments.atimensec = time.nanoseconds
        }
        if let time = changes.modificationTime {
            valid.insert(.mtime)
            arguments.mtime = UInt64(bitPattern: time.seconds)
            arguments.mtimensec = time.nanoseconds
        }
        arguments.valid = valid.rawValue
        var writer = try session.begin(.setattr, nodeID: target.nodeID)
        writer.write(arguments)
        var reply = try session.complete(writer)
        let out = try reply.read(FuseAttrOut.self)
        target.updateAttributes(out.attr, validSeconds: out.attrValid, validNanoseconds: out.attrValidNsec)
        return target.attributes
    }

    // MARK: Files

    override func open(_ node: VNode, flags: OpenFlags) throws(Errno) -> OpenFile {
        let target = try ownNode(node)
        guard target.kind != .directory else { throw .EISDIR }
        var arguments = FuseOpenIn()
        arguments.flags = serverFlags(flags, creating: false)
        var writer = try session.begin(.open, nodeID: target.nodeID)
        writer.write(arguments)
        var reply = try session.complete(writer)
        let out = try reply.read(FuseOpenOut.self)
        let file = FuseOpenFile(fileSystem: self, node: target, handle: out.fh, flags: flags,
                                openFlags: FuseOpenOutFlags(rawValue: out.openFlags))
        table.opened(target)
        if flags.contains(.truncate) && flags.canWrite {
            target.attributesValidUntil = 0
            target.knownSize = 0
            if !session.hasAtomicTruncate {
                do { try file.truncate(to: 0) } catch { try? file.close(); throw error }
            }
        }
        if let dax = dax, dax.isActive {
            // Close-to-open: DAX reads end at the size known here, so fetch it fresh, and
            // drop ranges mapped from an older version of the file.
            do {
                target.attributesValidUntil = 0
                let attributes = try self.attributes(of: target)
                try dax.opened(nodeID: target.nodeID, version: DaxFileVersion(attributes))
            } catch { try? file.close(); throw error }
        }
        return file
    }

    override func create(_ name: String, in directory: VNode, permissions: UInt32, flags: OpenFlags) throws(Errno) -> OpenFile {
        let parent = try directoryNode(directory)
        // Like the Linux client, CREATE only names that do not exist: open existing ones
        // (virtiofsd 7.2 aborts on CREATE of an existing file without O_EXCL).
        if let existing = try openExisting(name, in: parent, flags: flags) { return existing }
        var arguments = FuseCreateIn()
        arguments.flags = serverFlags(flags, creating: true)
        arguments.mode = FileKind.regular.modeBits | (permissions & 0o7777)
        var writer = try session.begin(.create, nodeID: parent.nodeID)
        writer.write(arguments)
        try FuseSession.writeName(name, into: &writer)
        var reply = try session.complete(writer)
        let entry = try reply.read(FuseEntryOut.self)
        let out = try reply.read(FuseOpenOut.self)
        parent.attributesValidUntil = 0
        guard let node = table.record(entry, name: name, in: parent) else { throw .EIO }
        let file = FuseOpenFile(fileSystem: self, node: node, handle: out.fh, flags: flags,
                                openFlags: FuseOpenOutFlags(rawValue: out.openFlags))
        table.opened(node)
        return file
    }

    // MARK: Directories

    override func makeDirectory(_ name: String, in directory: VNode, permissions: UInt32) throws(Errno) {
        let parent = try directoryNode(directory)
        var arguments = FuseMkdirIn()
        arguments.mode = FileKind.directory.modeBits | (permissions & 0o7777)
        var writer = try session.begin(.mkdir, nodeID: parent.nodeID)
        writer.write(arguments)
        try FuseSession.writeName(name, into: &writer)
        var reply = try session.complete(writer)
        parent.attributesValidUntil = 0
        table.record(try reply.read(FuseEntryOut.self), name: name, in: parent)
    }

    override func removeFile(_ name: String, in directory: VNode) throws(Errno) {
        try remove(name, in: directory, opcode: .unlink)
    }

    override func removeDirectory(_ name: String, in directory: VNode) throws(Errno) {
        try remove(name, in: directory, opcode: .rmdir)
    }

    private func remove(_ name: String, in directory: VNode, opcode: FuseOpcode) throws(Errno) {
        let parent = try directoryNode(directory)
        // Like the Linux client, only remove names we have looked up: virtiofsd answers
        // EIO, not ENOENT, for a name it does not know. Usually a cache hit.
        let victim = try ownNode(try lookup(name, in: parent))
        victim.attributesValidUntil = 0   // its link count changes
        var writer = try session.begin(opcode, nodeID: parent.nodeID)
        try FuseSession.writeName(name, into: &writer)
        _ = try session.complete(writer)
        parent.attributesValidUntil = 0
        table.removeEntry(name, in: parent)
        if opcode == .unlink { try dax?.drop(nodeID: victim.nodeID) }
    }

    override func rename(_ name: String, in directory: VNode, to newName: String, in newDirectory: VNode) throws(Errno) {
        let parent = try directoryNode(directory)
        let newParent = try directoryNode(newDirectory)
        _ = try lookup(name, in: parent)   // ENOENT here, not virtiofsd's EIO (see remove)
        var arguments = FuseRenameIn()
        arguments.newDir = newParent.nodeID
        var writer = try session.begin(.rename, nodeID: parent.nodeID)
        writer.write(arguments)
        try FuseSession.writeName(name, into: &writer)
        try FuseSession.writeName(newName, into: &writer)
        _ = try session.complete(writer)
        parent.attributesValidUntil = 0
        newParent.attributesValidUntil = 0
        table.cachedEntry(newName, in: newParent)?.attributesValidUntil = 0
        table.moveEntry(name, in: parent, to: newName, in: newParent)
    }

    override func openDirectory(_ node: VNode) throws(Errno) -> DirectoryStream {
        let directory = try directoryNode(node)
        var arguments = FuseOpenIn()
        arguments.flags = LinuxOpenFlags.readOnly | LinuxOpenFlags.directory
        var writer = try session.begin(.opendir, nodeID: directory.nodeID)
        writer.write(arguments)
        var reply = try session.complete(writer)
        let out = try reply.read(FuseOpenOut.self)
        table.opened(directory)
        return FuseDirectoryStream(fileSystem: self, directory: directory, handle: out.fh)
    }

    override func synchronize() throws(Errno) {
        try staging.flushWrites()
        session.flushForgets()
        session.drainBackground()
    }

    override var needsHousekeeping: Bool { true }

    override func housekeeping() {
        table.housekeeping()
        // Full batches only; the rest waits for more (or for sync at exit).
        if session.pendingForgetCount >= FuseSession.forgetBatchSize { session.flushForgets() }
    }

    override func dropCaches() throws(Errno) {
        try staging.flushWrites()
        staging.dropReadAhead()
        try dax?.dropAll()
        table.dropAll()
        session.flushForgets()
        session.drainBackground()
    }

    override func statistics() throws(Errno) -> FileSystemStats {
        let writer = try session.begin(.statfs, nodeID: FuseProtocol.rootNodeID)
        var reply = try session.complete(writer)
        let out = try reply.read(FuseStatfsOut.self).st
        var stats = FileSystemStats()
        stats.blockSize = out.bsize
        stats.totalBlocks = out.blocks
        stats.freeBlocks = out.bfree
        stats.availableBlocks = out.bavail
        stats.totalFiles = out.files
        stats.freeFiles = out.ffree
        stats.maxNameLength = out.namelen
        return stats
    }
}
