import CShim
import FuseServer
import Glibc
import Logging
import SwiftFSProtocol
import SystemSupport

/// Serves a host directory: every node is reached through an O_PATH
/// descriptor (kept, or reopened from a file handle: see Inode), every
/// operation a *at() call relative to one (or /proc/self/fd/N to reopen
/// one). No host path is ever built from guest names, symlinks are never
/// followed on the host, and ".." at the root stays at the root, so the
/// guest cannot reach outside the shared directory.
public final class PassthroughFileSystem: FileSystem {
    public let options: PassthroughOptions
    let logger: Logger
    let inodes: InodeStore
    let files: HandleTable<OpenFile>
    let directories: HandleTable<OpenDirectory>
    let posixLocks: PosixLockTable
    let lockWaiters: LockWaiters
    /// /proc/self/fd, to reopen O_PATH descriptors with real access modes.
    private let procSelf: OwnedDescriptor
    var procSelfFD: Int32 { procSelf.rawValue }
    /// The DAX window's mappings (nil: no window configured, SETUPMAPPING is ENOSYS).
    let dax: DaxMappingTable?

    public init(options: PassthroughOptions, logger: Logger = Logger(label: "swiftfs.passthrough")) throws(Errno) {
        self.options = options
        self.logger = logger
        self.lockWaiters = LockWaiters(limit: options.lockWaitLimit, maxWaiting: options.limits.waitingLocks)
        self.posixLocks = PosixLockTable(recordsPerOwner: options.limits.lockRecordsPerOwner,
                                         records: options.limits.lockRecords)
        self.dax = options.dax.map { DaxMappingTable(mappers: $0) }
        let proc = OwnedDescriptor(try systemCall {
            shim_openat(shim_AT_FDCWD, "/proc/self/fd", shim_O_PATH | shim_O_DIRECTORY | shim_O_CLOEXEC, 0)
        })
        let rootFD = OwnedDescriptor(try systemCall {
            shim_openat(shim_AT_FDCWD, options.sharedDir, shim_O_PATH | shim_O_DIRECTORY | shim_O_CLOEXEC, 0)
        })
        var st = stat()
        try Self.statNode(rootFD.rawValue, &st)
        let handles = try Self.handlePolicy(options, rootFD: rootFD.rawValue, logger: logger)
        self.procSelf = proc
        // An eighth of the limit for readable descriptors (xattr calls), only if xattrs are served.
        let readable = options.xattr ? DescriptorCache(capacity: max(16, Self.openFileLimit / 8)) : nil
        inodes = InodeStore(root: Inode(node: .root, pinned: PathDescriptor(rootFD), key: InodeKey(st),
                                        fileType: LinuxFileMode.directory, readableCache: readable),
                            handles: handles, nodeLimit: options.limits.nodes, readableCache: readable)
        // An eighth of the limit each: with the inode cache's half and the readable
        // descriptors' eighth, an eighth stays for the transport and for descriptors
        // an operation opens for a moment.
        let handleLimit = options.openHandleLimit ?? max(16, Self.openFileLimit / 8)
        files = HandleTable(limit: handleLimit)
        directories = HandleTable(limit: min(handleLimit, options.limits.openDirectories))
        // The kernel already applied the caller's umask to every mode it sends.
        umask(0)
    }

    /// The soft RLIMIT_NOFILE (the daemon raises it at start-up, before this).
    static var openFileLimit: Int {
        var limit = rlimit()
        guard getrlimit(shim_RLIMIT_NOFILE, &limit) == 0 else { return 1024 }
        return min(Int(clamping: limit.rlim_cur), Int(Int32.max)) // RLIM_INFINITY is all ones
    }

    /// `--inode-file-handles`: file handles if wanted and usable (the
    /// filesystem exports them, we may open them), else kept descriptors.
    private static func handlePolicy(_ options: PassthroughOptions, rootFD: Int32,
                                     logger: Logger) throws(Errno) -> InodeStore.HandlePolicy {
        if options.inodeFileHandles == .never { return InodeStore.HandlePolicy() }
        let capacity = max(1, options.inodeDescriptorCache ?? Self.openFileLimit / 2)
        do throws(Errno) {
            let resolver = try HandleResolver(rootFD: rootFD, cacheCapacity: capacity)
            logger.info("inodes named by file handles, at most \(capacity) descriptors kept open for them")
            return InodeStore.HandlePolicy(resolver: resolver, mandatory: options.inodeFileHandles == .mandatory)
        } catch {
            if options.inodeFileHandles == .mandatory {
                logger.error("--inode-file-handles=mandatory: file handles unusable on \(options.sharedDir): \(error)")
                throw error
            }
            logger.warning("file handles unusable on \(options.sharedDir) (\(error)): every inode keeps a descriptor open")
            return InodeStore.HandlePolicy()
        }
    }

    public func initialize(offered: FuseInitFlags) throws(Errno) -> FuseInitFlags {
        var wanted: FuseInitFlags = [.atomicOTrunc, .exportSupport]
        if options.readdirplus { wanted.formUnion([.doReaddirplus, .readdirplusAuto]) }
        if options.announceSubmounts { wanted.insert(.submounts) }
        if options.posixLocks { wanted.insert(.posixLocks) }
        if options.flockLocks { wanted.insert(.flockLocks) }
        if options.cache == .always { wanted.insert(.cacheSymlinks) }
        // DIRECT_IO opens (cache never/metadata) would otherwise refuse shared mmap.
        if options.cache.fileOpenFlags.contains(.directIO) { wanted.insert(.directIOAllowMmap) }
        if dax?.mappers.mapper != nil { wanted.insert(.mapAlignment) }
        // Granted only if offered (the server intersects): the guest then asks us to
        // clear suid/sgid (KILL_SUIDGID flags) and stops asking security.capability per write.
        if options.killprivV2 { wanted.insert(.handleKillprivV2) }
        return wanted
    }

    /// Nodes the kernel currently holds (besides the root): for tests and diagnostics.
    public var openNodeCount: Int { inodes.count }

    public func destroy() {
        dax?.removeAll()
        forgetSession()
    }

    public func deviceReset() {
        dax?.forgetAll()
        forgetSession()
    }

    private func forgetSession() {
        files.removeAll()
        directories.removeAll()
        posixLocks.removeAll()
        lockWaiters.forgetEarlyInterrupts()
        inodes.removeAll()
    }

    // MARK: Node helpers

    static func statNode(_ fd: Int32, _ st: inout stat) throws(Errno) {
        _ = try systemCall { fstatat(fd, "", &st, shim_AT_EMPTY_PATH | shim_AT_SYMLINK_NOFOLLOW) }
    }

    var timeout: CacheTimeout { options.timeout ?? options.cache.timeout }

    /// Looks `name` up in `parent` and counts one lookup of the result.
    ///
    /// A file that already has a node needs no new descriptor: one fstatat of
    /// the name finds it, and so does a name that does not exist. A new file
    /// needs an O_PATH descriptor, opened and then stat-ed (the name may change
    /// between two calls by name), so a stat of the name first would be a
    /// wasted call. Which comes first is a guess: `statFirst` when the caller
    /// knows (a name just created is new, a hard link's file is not), else what
    /// the directory's last lookup found (a repeated listing, a revalidation or
    /// a create's negative lookup: stat first; a fresh mount or a new directory:
    /// open first). A wrong guess costs a call, never a wrong answer.
    func lookupEntry(in parent: Inode, name: UnsafePointer<CChar>, statFirst: Bool? = nil) throws(Errno) -> Entry {
        try parent.withDescriptor { (parentFD) throws(Errno) in
            if statFirst ?? parent.lookupsStatFirst {
                var known = stat()
                _ = try systemCall { fstatat(parentFD, name, &known, shim_AT_SYMLINK_NOFOLLOW) }
                if let inode = inodes.referenceIfKnown(InodeKey(known)) {
                    return Entry(node: inode.node, attr: entryAttributes(known, parent: parent), entryTimeout: timeout, attrTimeout: timeout)
                }
            }
            let fd: OwnedDescriptor
            do throws(Errno) {
                fd = OwnedDescriptor(try systemCall { shim_openat(parentFD, name, shim_O_PATH | shim_O_NOFOLLOW | shim_O_CLOEXEC, 0) })
            } catch {
                if error == .ENOENT && statFirst == nil { parent.lookupsStatFirst = true }
                throw error
            }
            var st = stat()
            try Self.statNode(fd.rawValue, &st)
            let (inode, isNew) = try inodes.reference(fd, stat: st)
            if statFirst == nil { parent.lookupsStatFirst = !isNew }
            return Entry(node: inode.node, attr: entryAttributes(st, parent: parent), entryTimeout: timeout, attrTimeout: timeout)
        }
    }

    /// A looked-up name's attributes; with --announce-submounts a directory
    /// on another host filesystem than its parent is flagged as a submount.
    private func entryAttributes(_ st: stat, parent: Inode) -> FuseAttr {
        var attr = FuseAttr(st)
        if options.announceSubmounts && st.st_mode & S_IFMT == S_IFDIR && UInt64(st.st_dev) != parent.key.device {
            attr.flags |= FuseFlag.attrSubmount
        }
        return attr
    }

    /// The entry for a node the caller already holds, counting one more lookup.
    func entry(for inode: Inode) throws(Errno) -> Entry {
        var st = stat()
        try inode.withDescriptor { (fd) throws(Errno) in try Self.statNode(fd, &st) }
        let counted = inodes.referenceAgain(inode)
        return Entry(node: counted.node, attr: FuseAttr(st), entryTimeout: timeout, attrTimeout: timeout)
    }

    func attributes(of inode: Inode) throws(Errno) -> Attributes {
        var st = stat()
        try inode.withDescriptor { (fd) throws(Errno) in try Self.statNode(fd, &st) }
        return Attributes(attr: FuseAttr(st), timeout: timeout)
    }

    /// Reopens a node's O_PATH descriptor with a real access mode.
    func reopen(_ inode: Inode, flags: Int32) throws(Errno) -> OwnedDescriptor {
        OwnedDescriptor(try inode.withDescriptor { (fd) throws(Errno) in
            try systemCall { withProcFDNameOpen(procSelfFD, fd, flags | shim_O_CLOEXEC) }
        })
    }

    // MARK: Lookup and forget

    public func lookup(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) -> Entry {
        let directory = try inodes.inode(parent)
        guard directory.isDirectory else { throw Errno.ENOTDIR }
        if name.isDot { return try entry(for: directory) }
        if name.isDotDot {
            // ".." of the root is the root; elsewhere only a directory the guest
            // already knows (a directory moved out of the share must not lead out).
            if directory.node == .root { return try entry(for: directory) }
            var st = stat()
            try directory.withDescriptor { (directoryFD) throws(Errno) in
                _ = try systemCall { fstatat(directoryFD, "..", &st, shim_AT_SYMLINK_NOFOLLOW) }
            }
            guard let known = inodes.known(InodeKey(st)) else { throw Errno.EACCES }
            return try entry(for: known)
        }
        return try lookupEntry(in: directory, name: name.pointer)
    }

    public func forget(node: NodeID, count: UInt64) {
        if inodes.forget(node, count: count) { posixLocks.removeNode(node) }
    }

    // MARK: Attributes

    public func getattr(_ context: RequestContext, node: NodeID, handle: FileHandle?) throws(Errno) -> Attributes {
        if let handle, let file = try? files.get(handle) {
            var st = stat()
            _ = try systemCall { fstat(file.fd, &st) }
            return Attributes(attr: FuseAttr(st), timeout: timeout)
        }
        return try attributes(of: try inodes.inode(node))
    }

    public func statfs(_ context: RequestContext, node: NodeID) throws(Errno) -> FuseKStatfs {
        let inode = try inodes.inode(node)
        var st = statvfs()
        _ = try inode.withDescriptor { (fd) throws(Errno) in try systemCall { fstatvfs(fd, &st) } }
        var out = FuseKStatfs()
        out.blocks = UInt64(st.f_blocks)
        out.bfree = UInt64(st.f_bfree)
        out.bavail = UInt64(st.f_bavail)
        out.files = UInt64(st.f_files)
        out.ffree = UInt64(st.f_ffree)
        out.bsize = UInt32(truncatingIfNeeded: st.f_bsize)
        out.namelen = UInt32(truncatingIfNeeded: st.f_namemax)
        out.frsize = UInt32(truncatingIfNeeded: st.f_frsize)
        return out
    }

    public func access(_ context: RequestContext, node: NodeID, mask: UInt32) throws(Errno) {
        let inode = try inodes.inode(node)
        try Credentials.asCaller(context) { () throws(Errno) in
            _ = try inode.withDescriptor { (fd) throws(Errno) in
                try withProcFDName(fd) { (name) throws(Errno) in
                    try systemCall { faccessat(procSelfFD, name, Int32(bitPattern: mask), AT_EACCESS) }
                }
            }
        }
    }

    public func syncfs(_ context: RequestContext, node: NodeID) throws(Errno) {
        let inode = try inodes.inode(node)
        // The kernel names the root; never open a special file (a device node's open has effects on the host).
        guard inode.isDirectory || inode.isRegularFile else { throw Errno.EINVAL }
        let fd = try reopen(inode, flags: O_RDONLY | O_NONBLOCK)
        _ = try systemCall { shim_syncfs(fd.rawValue) }
    }

    public func interrupt(unique: UInt64) {
        lockWaiters.interrupt(unique: unique)
    }

    public func interruptAll() {
        lockWaiters.interruptAll()
    }
}

/// openat(/proc/self/fd, "<fd>", flags): reopens an O_PATH descriptor.
func withProcFDNameOpen(_ procSelfFD: Int32, _ fd: Int32, _ flags: Int32) -> Int32 {
    (try? withProcFDName(fd) { (name) throws(Errno) in shim_openat(procSelfFD, name, flags, 0) }) ?? -1
}
