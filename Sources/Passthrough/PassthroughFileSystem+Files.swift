import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import SystemSupport

/// Open files: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE,
/// LSEEK, COPY_FILE_RANGE.
extension PassthroughFileSystem {
    /// The guest's open flags we pass to the host: access mode and data
    /// semantics only. Creation is CREATE's business; O_NOFOLLOW/O_PATH make
    /// no sense here. O_DIRECT demands aligned buffers and offsets from the
    /// guest, so (as in virtiofsd) it is kept only with --allow-direct-io.
    func hostOpenFlags(_ flags: OpenFlags) -> Int32 {
        var kept = LinuxOpenFlags.accessModeMask | LinuxOpenFlags.append | LinuxOpenFlags.truncate |
            LinuxOpenFlags.nonblock | LinuxOpenFlags.sync | LinuxOpenFlags.dsync | LinuxOpenFlags.noAccessTime |
            LinuxOpenFlags.largefile
        if options.allowDirectIO { kept |= LinuxOpenFlags.direct }
        return Int32(bitPattern: flags.rawValue & kept)
    }

    func file(_ handle: FileHandle) throws(Errno) -> OpenFile { try files.get(handle) }

    /// The open file for a new handle: one the guest opened with O_APPEND keeps its writes in order.
    func openFile(_ fd: consuming OwnedDescriptor, node: NodeID, flags: OpenFlags) -> OpenFile {
        OpenFile(fd, node: node, appendOrder: flags.appends ? AppendOrder(limit: options.appendOrderWait) : nil)
    }

    /// A write, truncation or O_TRUNC of a guest caller without CAP_FSETID
    /// (`kill`, FUSE_HANDLE_KILLPRIV_V2) runs so that the host clears suid/sgid.
    func killingSuidgid<R: ~Copyable>(if kill: Bool, _ body: () throws(Errno) -> R) throws(Errno) -> R {
        kill ? try Credentials.withoutFileSetID(body) : try body()
    }

    public func open(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle {
        let inode = try inodes.inode(node)
        // Only regular files: the guest kernel opens devices, FIFOs and sockets
        // itself, and a symlink is resolved by the guest, never by us.
        if inode.isDirectory { throw Errno.EISDIR }
        if inode.isSymlink { throw Errno(ELOOP) }
        guard inode.isRegularFile else { throw Errno.EACCES }
        let fd = try killingSuidgid(if: flags.killSuidgid) { () throws(Errno) in try reopen(inode, flags: hostOpenFlags(flags)) }
        let handle = try files.insert(openFile(fd, node: node, flags: flags))
        // Close-to-open: window copies of a file the host changed are refreshed.
        do throws(Errno) { try dax?.revalidate(node: node) } catch {
            _ = try? files.remove(handle)
            throw error
        }
        return OpenedHandle(handle: handle, flags: options.cache.fileOpenFlags)
    }

    public func create(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, umask: UInt32,
                       flags: OpenFlags) throws(Errno) -> (Entry, OpenedHandle) {
        let dir = try directory(parent)
        let fd = OwnedDescriptor(try Credentials.asCaller(context) { () throws(Errno) in
            try killingSuidgid(if: flags.killSuidgid) { () throws(Errno) in
                try openForCreate(in: dir, name: name, mode: mode & LinuxFileMode.permissionMask, flags: flags)
            }
        })
        let entry = try lookupEntry(in: dir, name: name.pointer, statFirst: false)
        let handle: FileHandle
        do throws(Errno) {
            handle = try files.insert(openFile(fd, node: entry.node, flags: flags))
        } catch {
            forget(node: entry.node, count: 1) // the kernel never learns of this lookup
            throw error
        }
        try? dax?.revalidate(node: entry.node) // CREATE of an existing file may truncate it
        return (entry, OpenedHandle(handle: handle, flags: options.cache.fileOpenFlags))
    }

    /// CREATE's open: a new regular file, or (without O_EXCL) an existing
    /// regular file, as OPEN would. Nothing else is ever opened: a plain
    /// open(O_CREAT) of an existing FIFO blocks the worker, and of a device
    /// node the guest made with MKNOD it opens the host's device.
    private func openForCreate(in dir: Inode, name: FileName, mode: UInt32, flags: OpenFlags) throws(Errno) -> Int32 {
        try dir.withDescriptor { (dirFD) throws(Errno) in try openForCreate(in: dirFD, name: name, mode: mode, flags: flags) }
    }

    private func openForCreate(in dirFD: Int32, name: FileName, mode: UInt32, flags: OpenFlags) throws(Errno) -> Int32 {
        let hostFlags = hostOpenFlags(flags) | shim_O_CLOEXEC
        let exclusive = flags.rawValue & LinuxOpenFlags.exclusive != 0
        // A few rounds in case the name is removed and recreated between the two opens.
        for _ in 0..<4 {
            let created = shim_openat(dirFD, name.pointer, hostFlags | O_CREAT | O_EXCL | shim_O_NOFOLLOW, mode)
            if created >= 0 { return created }
            let error = Errno.current
            if error == .EINTR { continue }
            guard error == .EEXIST, !exclusive else { throw error }
            // It exists: look at what it is through an O_PATH descriptor, and reopen that same file.
            let pathFD = shim_openat(dirFD, name.pointer, shim_O_PATH | shim_O_NOFOLLOW | shim_O_CLOEXEC, 0)
            if pathFD < 0 {
                if errno == ENOENT { continue }
                throw Errno.current
            }
            let path = OwnedDescriptor(pathFD)
            var st = stat()
            try Self.statNode(path.rawValue, &st)
            switch UInt32(st.st_mode) & LinuxFileMode.typeMask {
            case LinuxFileMode.regular: return try systemCall { withProcFDNameOpen(procSelfFD, path.rawValue, hostFlags) }
            case LinuxFileMode.directory: throw Errno.EISDIR
            case LinuxFileMode.symlink: throw Errno(ELOOP)
            default: throw Errno.EACCES
            }
        }
        throw Errno.ENOENT
    }

    public func read(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                     into destination: inout ReadDestination) throws(Errno) {
        let file = try file(handle)
        // Straight into the transport's buffers (guest memory for virtio-fs).
        _ = try destination.fill { (iovecs) throws(Errno) -> Int in
            try systemCall { preadv(file.fd, iovecs.baseAddress, Int32(iovecs.count), off_t(offset)) }
        }
    }

    public func write(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                      from source: WriteSource, flags: UInt32) throws(Errno) -> Int {
        let file = try file(handle)
        // O_APPEND ignores the offset: the pieces of one split write go in offset order.
        file.appendOrder?.waitForTurn(offset: offset) { () -> UInt64? in
            var st = stat()
            return fstat(file.fd, &st) == 0 ? UInt64(st.st_size) : nil
        }
        let before = dax?.identityBeforeChange(node: file.node, file: file)
        let written = try killingSuidgid(if: flags & FuseFlag.writeKillSuidgid != 0) { () throws(Errno) in
            try source.drain { (iovecs) throws(Errno) -> Int in
                try systemCall { pwritev(file.fd, iovecs.baseAddress, Int32(iovecs.count), off_t(offset)) }
            }
        }
        file.appendOrder?.wrote(offset: offset, length: written)
        // A read after a write sees the written bytes, also through the window.
        dax?.fileChanged(node: file.node, offset: offset, length: UInt64(written), before: before)
        return written
    }

    public func flush(_ context: RequestContext, node: NodeID, handle: FileHandle, lockOwner: UInt64) throws(Errno) {
        let file = try file(handle)
        try dax?.writeBack(node: file.node)
        posixLocks.releaseAll(node: file.node, owner: lockOwner)
        // close(2) semantics for the host file system (NFS flushes on close) without closing ours;
        // a raw close of a dup, since its result is FLUSH's answer.
        // Never retried: after close(2) fails the descriptor is gone anyway, and
        // its number may already belong to another thread's file.
        let duplicate = try systemCall { dup(file.fd) }
        if close(duplicate) != 0 && errno != EINTR { throw Errno.current }
    }

    public func release(_ context: RequestContext, node: NodeID, handle: FileHandle, flags: OpenFlags,
                        flockUnlock: Bool, lockOwner: UInt64) throws(Errno) {
        let file = try files.remove(handle)
        if flockUnlock { _ = flock(file.fd, LOCK_UN) }
        // The mappings outlive the handle; their bytes reach the file now.
        try dax?.writeBack(node: file.node)
    }

    public func fsync(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno) {
        let file = try file(handle)
        try dax?.writeBack(node: file.node)
        _ = try systemCall { dataOnly ? fdatasync(file.fd) : Glibc.fsync(file.fd) }
    }

    public func fallocate(_ context: RequestContext, node: NodeID, handle: FileHandle, mode: UInt32,
                          offset: UInt64, length: UInt64) throws(Errno) {
        let file = try file(handle)
        let before = dax?.identityBeforeChange(node: file.node, file: file)
        _ = try systemCall { shim_fallocate(file.fd, Int32(bitPattern: mode), off_t(offset), off_t(length)) }
        dax?.fileChanged(node: file.node, offset: offset, length: length, before: before)
    }

    public func lseek(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                      whence: UInt32) throws(Errno) -> UInt64 {
        let file = try file(handle)
        guard whence <= LinuxSeekWhence.hole else { throw Errno.EINVAL }
        // All I/O is positional (preadv/pwritev), so moving the descriptor's offset is harmless.
        let result = try systemCall { Glibc.lseek(file.fd, off_t(offset), Int32(whence)) }
        return UInt64(result)
    }

    public func copyFileRange(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                              to outputNode: NodeID, handle outputHandle: FileHandle, offset outputOffset: UInt64,
                              length: UInt64, flags: UInt64) throws(Errno) -> Int {
        let input = try file(handle)
        let output = try file(outputHandle)
        guard flags == 0 else { throw Errno.EINVAL }
        var inOffset = off_t(offset), outOffset = off_t(outputOffset)
        let before = dax?.identityBeforeChange(node: output.node, file: output)
        let copied = try systemCall { shim_copy_file_range(input.fd, &inOffset, output.fd, &outOffset, Int(length), 0) }
        dax?.fileChanged(node: output.node, offset: outputOffset, length: UInt64(copied), before: before)
        return copied
    }
}
