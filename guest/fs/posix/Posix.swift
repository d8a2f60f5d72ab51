// The application interface: POSIX file calls as plain Swift functions.
// In a unikernel these are ordinary calls into the VFS, no system call trap.
// Errors are thrown as Errno with Linux values; Posix.C* wrappers in
// CEntryPoints.swift turn them into -errno for C.

/// The unikernel's single mount table and descriptor table.
/// Every call that takes a path (and readdir) starts with systemVFS.housekeeping(): no node is
/// in use between calls, so filesystems may trim their caches there.
/// nonisolated(unsafe): the unikernel runs one thread (host tests that share them run serialized).
nonisolated(unsafe) let systemVFS = VirtualFileSystem(root: RamFileSystem(label: "rootfs"))
nonisolated(unsafe) let systemDescriptors = FileDescriptorTable()

enum Posix {
    static func open(_ path: String, _ flags: OpenFlags, permissions: UInt32 = 0o644) throws(Errno) -> Int32 {
        systemVFS.housekeeping()
        let description: OpenFileDescription
        if flags.contains(.create) {
            // "name/" never creates a file: ENOTDIR for an existing file, EISDIR otherwise.
            if endsWithSlash(path) {
                do { _ = try systemVFS.resolve(path) } catch { if error != .ENOENT { throw error } }
                throw .EISDIR
            }
            let fileSystem: FileSystem, directory: VNode, name: String
            do {
                (fileSystem, directory, name) = try systemVFS.resolveParent(path)
            } catch {
                // "/" and mount points exist and are directories.
                throw error == .EBUSY ? (flags.contains(.exclusive) ? .EEXIST : .EISDIR) : error
            }
            if flags.contains(.directory) { throw .EINVAL }
            let file = try fileSystem.create(name, in: directory, permissions: permissions, flags: flags)
            description = OpenFileDescription(file: file, flags: flags)
        } else {
            let (fileSystem, node) = try systemVFS.resolve(path)
            if try fileSystem.kind(of: node) == .directory {
                if flags.canWrite { throw .EISDIR }
                description = OpenFileDescription(directory: node, in: fileSystem, flags: flags)
            } else {
                if flags.contains(.directory) { throw .ENOTDIR }
                description = OpenFileDescription(file: try fileSystem.open(node, flags: flags), flags: flags)
            }
        }
        do {
            return try systemDescriptors.install(description)
        } catch {
            try? description.close()
            throw error
        }
    }

    static func close(_ descriptor: Int32) throws(Errno) {
        try systemDescriptors.remove(descriptor).close()
    }

    private static func readableFile(_ descriptor: Int32) throws(Errno) -> (OpenFileDescription, OpenFile) {
        let description = try systemDescriptors.description(descriptor)
        guard description.flags.canRead else { throw .EBADF }
        guard let file = description.file else { throw .EISDIR }
        return (description, file)
    }

    private static func writableFile(_ descriptor: Int32) throws(Errno) -> (OpenFileDescription, OpenFile) {
        let description = try systemDescriptors.description(descriptor)
        guard description.flags.canWrite, let file = description.file else { throw .EBADF }
        return (description, file)
    }

    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        let (description, file) = try readableFile(descriptor)
        let count = try file.read(into: buffer, at: description.offset)
        description.offset = try offsetSum(description.offset, count)
        return count
    }

    static func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard offset >= 0 else { throw .EINVAL }
        return try readableFile(descriptor).1.read(into: buffer, at: offset)
    }

    static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        let (description, file) = try writableFile(descriptor)
        if description.flags.contains(.append) { description.offset = try file.sizeForAppend() }
        try checkWriteRange(description.offset, bytes.count)
        let count = try file.write(bytes, at: description.offset)
        description.offset += count
        return count
    }

    /// pwrite() ignores O_APPEND, as POSIX intends (Linux differs; we follow the standard).
    static func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard offset >= 0 else { throw .EINVAL }
        let file = try writableFile(descriptor).1
        try checkWriteRange(offset, bytes.count)
        return try file.write(bytes, at: offset)
    }

    /// The end of a write must be a representable offset (a server's size, or an lseek, can put
    /// the offset near Int.max): EFBIG, as Linux answers past its maximum file size.
    private static func checkWriteRange(_ offset: Int, _ count: Int) throws(Errno) {
        guard offset <= Int.max - count else { throw .EFBIG }
    }

    static func lseek(_ descriptor: Int32, _ offset: Int, _ origin: SeekOrigin) throws(Errno) -> Int {
        let description = try systemDescriptors.description(descriptor)
        let position: Int
        switch origin {
        case .start: position = offset
        case .current: position = try offsetSum(description.offset, offset)
        case .end: position = try offsetSum(try description.attributes().size, offset)
        case .data, .hole:
            guard let file = description.file else { throw .EINVAL }
            position = try file.seek(origin, from: offset)
        }
        guard position >= 0 else { throw .EINVAL }
        description.offset = position
        return position
    }

    private static func endsWithSlash(_ path: String) -> Bool { path.utf8.last == UInt8(ascii: "/") }

    /// base + delta, EOVERFLOW when it does not fit (Linux: the resulting offset overflows off_t).
    private static func offsetSum(_ base: Int, _ delta: Int) throws(Errno) -> Int {
        let (sum, overflow) = base.addingReportingOverflow(delta)
        if overflow { throw .EOVERFLOW }
        return sum
    }

    static func fstat(_ descriptor: Int32) throws(Errno) -> FileStat {
        try systemDescriptors.description(descriptor).attributes()
    }

    static func stat(_ path: String) throws(Errno) -> FileStat {
        systemVFS.housekeeping()
        let (fileSystem, node) = try systemVFS.resolve(path)
        return try fileSystem.attributes(of: node)
    }

    static func ftruncate(_ descriptor: Int32, _ size: Int) throws(Errno) {
        guard size >= 0 else { throw .EINVAL }
        let description = try systemDescriptors.description(descriptor)
        guard description.flags.canWrite else { throw .EINVAL }
        guard let file = description.file else { throw .EINVAL }
        try file.truncate(to: size)
    }

    static func truncate(_ path: String, _ size: Int) throws(Errno) {
        systemVFS.housekeeping()
        guard size >= 0 else { throw .EINVAL }
        let (fileSystem, node) = try systemVFS.resolve(path)
        var changes = AttributeChanges()
        changes.size = size
        _ = try fileSystem.setAttributes(of: node, changes)
    }

    static func chmod(_ path: String, _ permissions: UInt32) throws(Errno) {
        systemVFS.housekeeping()
        let (fileSystem, node) = try systemVFS.resolve(path)
        var changes = AttributeChanges()
        changes.permissions = permissions
        _ = try fileSystem.setAttributes(of: node, changes)
    }

    /// utimensat(): nil leaves a time unchanged.
    static func setTimes(_ path: String, access: FileTime?, modification: FileTime?) throws(Errno) {
        systemVFS.housekeeping()
        let (fileSystem, node) = try systemVFS.resolve(path)
        var changes = AttributeChanges()
        changes.accessTime = access
        changes.modificationTime = modification
        _ = try fileSystem.setAttributes(of: node, changes)
    }

    static func fsync(_ descriptor: Int32) throws(Errno) {
        let description = try systemDescriptors.description(descriptor)
        try description.file?.sync()
    }

    static func mkdir(_ path: String, permissions: UInt32 = 0o755) throws(Errno) {
        systemVFS.housekeeping()
        let fileSystem: FileSystem, directory: VNode, name: String
        do {
            (fileSystem, directory, name) = try systemVFS.resolveParent(path)
        } catch {
            throw error == .EBUSY ? .EEXIST : error
        }
        try fileSystem.makeDirectory(name, in: directory, permissions: permissions)
    }

    static func rmdir(_ path: String) throws(Errno) {
        systemVFS.housekeeping()
        let (fileSystem, directory, name) = try systemVFS.resolveParent(path)
        try fileSystem.removeDirectory(name, in: directory)
    }

    static func unlink(_ path: String) throws(Errno) {
        systemVFS.housekeeping()
        let fileSystem: FileSystem, directory: VNode, name: String
        do {
            (fileSystem, directory, name) = try systemVFS.resolveParent(path)
        } catch {
            throw error == .EBUSY ? .EISDIR : error
        }
        // "file/" is ENOTDIR (resolve checks it), "dir/" EISDIR: never unlink a file through "name/".
        if endsWithSlash(path) {
            _ = try systemVFS.resolve(path)
            throw .EISDIR
        }
        try fileSystem.removeFile(name, in: directory)
    }

    static func rename(_ oldPath: String, _ newPath: String) throws(Errno) {
        systemVFS.housekeeping()
        let (fileSystem, directory, name) = try systemVFS.resolveParent(oldPath)
        let (newFileSystem, newDirectory, newName) = try systemVFS.resolveParent(newPath)
        guard fileSystem === newFileSystem else { throw .EXDEV }
        // A trailing slash on either path demands that the source is a directory.
        if endsWithSlash(oldPath) || endsWithSlash(newPath) {
            let moving = try fileSystem.lookup(name, in: directory)
            if try fileSystem.kind(of: moving) != .directory { throw .ENOTDIR }
        }
        try fileSystem.rename(name, in: directory, to: newName, in: newDirectory)
    }

    /// sync(): sends data the filesystems still hold (the FUSE client gathers small writes).
    static func sync() throws(Errno) {
        try systemVFS.synchronizeAll()
    }

    /// echo 3 > /proc/sys/vm/drop_caches: after a sync, every cached lookup and attribute goes.
    static func dropCaches() throws(Errno) {
        try systemVFS.synchronizeAll()
        try systemVFS.dropCachesAll()
    }

    static func statfs(_ path: String) throws(Errno) -> FileSystemStats {
        systemVFS.housekeeping()
        let (fileSystem, _) = try systemVFS.resolve(path)
        return try fileSystem.statistics()
    }

    /// opendir(): a descriptor whose entries readdir() returns.
    static func opendir(_ path: String) throws(Errno) -> Int32 {
        let descriptor = try open(path, [.directory])
        do {
            let description = try systemDescriptors.description(descriptor)
            let (fileSystem, node) = description.directory!
            description.directoryStream = try fileSystem.openDirectory(node)
        } catch {
            try? close(descriptor)
            throw error
        }
        return descriptor
    }

    /// The next entry, "." and ".." included; nil at the end.
    static func readdir(_ descriptor: Int32) throws(Errno) -> DirectoryEntry? {
        systemVFS.housekeeping()
        let description = try systemDescriptors.description(descriptor)
        guard let (fileSystem, node) = description.directory else { throw .ENOTDIR }
        if description.directoryStream == nil {
            description.directoryStream = try fileSystem.openDirectory(node)
        }
        return try description.directoryStream!.next()
    }

    static func closedir(_ descriptor: Int32) throws(Errno) {
        try close(descriptor)
    }
}
