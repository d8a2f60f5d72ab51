import SwiftFSProtocol

/// A filesystem the FUSE server serves: one typed method per FUSE operation.
/// Every method has a default that answers ENOSYS (or does nothing, for
/// notifications), so an implementation provides only what it supports.
///
/// The server has already decoded and bounds-checked the request: names are
/// valid components, lengths are within the request. Node ids and handles
/// are whatever the kernel sent: the filesystem validates them (unknown →
/// EBADF). Methods are called concurrently from several threads.
public protocol FileSystem: Sendable {
    /// INIT: `offered` are the kernel's capabilities; return the optional ones
    /// this filesystem wants (locks, READDIRPLUS, writeback cache...). The server
    /// adds the transport-level ones (ASYNC_READ, BIG_WRITES, MAX_PAGES...).
    func initialize(offered: FuseInitFlags) throws(Errno) -> FuseInitFlags
    /// DESTROY, or a new INIT on a live session: forget every node and handle.
    func destroy()
    /// The transport's device was reset or its peer hung up, without a
    /// DESTROY: as destroy(), except that the DAX window's mappings went with
    /// the device, so they are written back and forgotten, not unmapped.
    func deviceReset()

    func lookup(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) -> Entry
    /// The kernel drops `count` lookups of `node` (FORGET, BATCH_FORGET). No reply.
    func forget(node: NodeID, count: UInt64)
    func getattr(_ context: RequestContext, node: NodeID, handle: FileHandle?) throws(Errno) -> Attributes
    func setattr(_ context: RequestContext, node: NodeID, changes: AttributeChanges) throws(Errno) -> Attributes
    /// Writes the link target into `buffer`; returns its length.
    func readlink(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    func symlink(_ context: RequestContext, parent: NodeID, name: FileName, target: CString) throws(Errno) -> Entry
    func mknod(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, rdev: UInt32, umask: UInt32) throws(Errno) -> Entry
    func mkdir(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, umask: UInt32) throws(Errno) -> Entry
    func unlink(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno)
    func rmdir(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno)
    func rename(_ context: RequestContext, parent: NodeID, name: FileName, newParent: NodeID, newName: FileName,
                flags: RenameFlags) throws(Errno)
    func link(_ context: RequestContext, node: NodeID, newParent: NodeID, newName: FileName) throws(Errno) -> Entry

    func open(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle
    func create(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, umask: UInt32,
                flags: OpenFlags) throws(Errno) -> (Entry, OpenedHandle)
    /// Fills `destination` (at most `destination.capacity` bytes) from `offset`; a short fill means EOF.
    func read(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
              into destination: inout ReadDestination) throws(Errno)
    /// Writes `source.count` bytes at `offset`; returns how many were written.
    /// `flags` is fuse_write_in.write_flags: with FuseFlag.writeKillSuidgid the
    /// caller lacks CAP_FSETID, so the write clears suid, and sgid if group-executable.
    func write(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
               from source: WriteSource, flags: UInt32) throws(Errno) -> Int
    /// close(2) of one file descriptor: release the POSIX locks of `lockOwner`.
    func flush(_ context: RequestContext, node: NodeID, handle: FileHandle, lockOwner: UInt64) throws(Errno)
    func release(_ context: RequestContext, node: NodeID, handle: FileHandle, flags: OpenFlags,
                 flockUnlock: Bool, lockOwner: UInt64) throws(Errno)
    func fsync(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno)

    func opendir(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle
    /// Appends entries starting at the cookie `offset` (0 = the beginning) until the sink is full.
    func readdir(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                 into sink: inout DirectoryEntrySink) throws(Errno)
    /// As readdir, with an Entry (one lookup each) for every entry but "." and "..".
    func readdirplus(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                     into sink: inout DirectoryEntrySink) throws(Errno)
    func releasedir(_ context: RequestContext, node: NodeID, handle: FileHandle) throws(Errno)
    func fsyncdir(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno)

    func statfs(_ context: RequestContext, node: NodeID) throws(Errno) -> FuseKStatfs
    func access(_ context: RequestContext, node: NodeID, mask: UInt32) throws(Errno)

    func setxattr(_ context: RequestContext, node: NodeID, name: CString, value: UnsafeRawBufferPointer,
                  flags: UInt32) throws(Errno)
    /// With `buffer` nil, returns the value's size; else copies it in and returns its length (ERANGE if too small).
    func getxattr(_ context: RequestContext, node: NodeID, name: CString,
                  into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int
    /// The NUL-separated name list, sized like getxattr.
    func listxattr(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int
    func removexattr(_ context: RequestContext, node: NodeID, name: CString) throws(Errno)

    func fallocate(_ context: RequestContext, node: NodeID, handle: FileHandle, mode: UInt32,
                   offset: UInt64, length: UInt64) throws(Errno)
    func lseek(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64, whence: UInt32) throws(Errno) -> UInt64
    func copyFileRange(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                       to outputNode: NodeID, handle outputHandle: FileHandle, offset outputOffset: UInt64,
                       length: UInt64, flags: UInt64) throws(Errno) -> Int
    func syncfs(_ context: RequestContext, node: NodeID) throws(Errno)

    /// GETLK: the first lock that would conflict with `lock`, or `lock` with kind .unlock if none.
    func getlk(_ context: RequestContext, node: NodeID, request: FileLock.Request, lock: FileLock) throws(Errno) -> FileLock
    /// SETLK (wait false) / SETLKW (wait true). A conflicting lock without wait is EAGAIN.
    func setlk(_ context: RequestContext, node: NodeID, request: FileLock.Request, lock: FileLock, wait: Bool) throws(Errno)
    /// INTERRUPT of the request `unique` (e.g. a SETLKW waiting for a lock).
    func interrupt(unique: UInt64)

    /// log2 of the DAX mapping alignment, granted with FUSE_MAP_ALIGNMENT when
    /// `initialize` asks for that flag.
    var mapAlignmentShift: UInt16 { get }
    /// SETUPMAPPING: show `range` of the file `node` in the DAX window; `handle`
    /// is the open file it came through, nil when the kernel names the node alone.
    /// `flags` as the kernel sent them (FuseFlag.mappingRead/mappingWrite).
    func setupMapping(_ context: RequestContext, node: NodeID, handle: FileHandle?, range: DaxRange,
                      flags: UInt64) throws(Errno)
    /// REMOVEMAPPING of window ranges (an empty batch is EINVAL); a refused batch removes nothing.
    func removeMapping(_ context: RequestContext, node: NodeID, ranges: [FuseRemoveMappingOne]) throws(Errno)
    /// Interrupts every request waiting (the transport is stopping): each answers EINTR at once.
    func interruptAll()
}

extension FileSystem {
    public func initialize(offered: FuseInitFlags) throws(Errno) -> FuseInitFlags { [] }
    public func destroy() {}
    public func deviceReset() { destroy() }
    public func lookup(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) -> Entry { throw .ENOSYS }
    public func forget(node: NodeID, count: UInt64) {}
    public func getattr(_ context: RequestContext, node: NodeID, handle: FileHandle?) throws(Errno) -> Attributes { throw .ENOSYS }
    public func setattr(_ context: RequestContext, node: NodeID, changes: AttributeChanges) throws(Errno) -> Attributes { throw .ENOSYS }
    public func readlink(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { throw .ENOSYS }
    public func symlink(_ context: RequestContext, parent: NodeID, name: FileName, target: CString) throws(Errno) -> Entry { throw .ENOSYS }
    public func mknod(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, rdev: UInt32, umask: UInt32) throws(Errno) -> Entry { throw .ENOSYS }
    public func mkdir(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, umask: UInt32) throws(Errno) -> Entry { throw .ENOSYS }
    public func unlink(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) { throw .ENOSYS }
    public func rmdir(_ context: RequestContext, parent: NodeID, name: FileName) throws(Errno) { throw .ENOSYS }
    public func rename(_ context: RequestContext, parent: NodeID, name: FileName, newParent: NodeID, newName: FileName,
                       flags: RenameFlags) throws(Errno) { throw .ENOSYS }
    public func link(_ context: RequestContext, node: NodeID, newParent: NodeID, newName: FileName) throws(Errno) -> Entry { throw .ENOSYS }
    public func open(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle { throw .ENOSYS }
    public func create(_ context: RequestContext, parent: NodeID, name: FileName, mode: UInt32, umask: UInt32,
                       flags: OpenFlags) throws(Errno) -> (Entry, OpenedHandle) { throw .ENOSYS }
    public func read(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                     into destination: inout ReadDestination) throws(Errno) { throw .ENOSYS }
    public func write(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                      from source: WriteSource, flags: UInt32) throws(Errno) -> Int { throw .ENOSYS }
    public func flush(_ context: RequestContext, node: NodeID, handle: FileHandle, lockOwner: UInt64) throws(Errno) { throw .ENOSYS }
    public func release(_ context: RequestContext, node: NodeID, handle: FileHandle, flags: OpenFlags,
                        flockUnlock: Bool, lockOwner: UInt64) throws(Errno) {}
    public func fsync(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno) { throw .ENOSYS }
    public func opendir(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle { throw .ENOSYS }
    public func readdir(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                        into sink: inout DirectoryEntrySink) throws(Errno) { throw .ENOSYS }
    public func readdirplus(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                            into sink: inout DirectoryEntrySink) throws(Errno) { throw .ENOSYS }
    public func releasedir(_ context: RequestContext, node: NodeID, handle: FileHandle) throws(Errno) {}
    public func fsyncdir(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno) { throw .ENOSYS }
    public func statfs(_ context: RequestContext, node: NodeID) throws(Errno) -> FuseKStatfs { throw .ENOSYS }
    public func access(_ context: RequestContext, node: NodeID, mask: UInt32) throws(Errno) { throw .ENOSYS }
    public func setxattr(_ context: RequestContext, node: NodeID, name: CString, value: UnsafeRawBufferPointer,
                         flags: UInt32) throws(Errno) { throw .ENOSYS }
    public func getxattr(_ context: RequestContext, node: NodeID, name: CString,
                         into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int { throw .ENOSYS }
    public func listxattr(_ context: RequestContext, node: NodeID, into buffer: UnsafeMutableRawBufferPointer?) throws(Errno) -> Int { throw .ENOSYS }
    public func removexattr(_ context: RequestContext, node: NodeID, name: CString) throws(Errno) { throw .ENOSYS }
    public func fallocate(_ context: RequestContext, node: NodeID, handle: FileHandle, mode: UInt32,
                          offset: UInt64, length: UInt64) throws(Errno) { throw .ENOSYS }
    public func lseek(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64, whence: UInt32) throws(Errno) -> UInt64 { throw .ENOSYS }
    public func copyFileRange(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                              to outputNode: NodeID, handle outputHandle: FileHandle, offset outputOffset: UInt64,
                              length: UInt64, flags: UInt64) throws(Errno) -> Int { throw .ENOSYS }
    public func syncfs(_ context: RequestContext, node: NodeID) throws(Errno) { throw .ENOSYS }
    public func getlk(_ context: RequestContext, node: NodeID, request: FileLock.Request, lock: FileLock) throws(Errno) -> FileLock { throw .ENOSYS }
    public func setlk(_ context: RequestContext, node: NodeID, request: FileLock.Request, lock: FileLock, wait: Bool) throws(Errno) { throw .ENOSYS }
    public func interrupt(unique: UInt64) {}
    public var mapAlignmentShift: UInt16 { 0 }
    public func setupMapping(_ context: RequestContext, node: NodeID, handle: FileHandle?, range: DaxRange,
                             flags: UInt64) throws(Errno) { throw .ENOSYS }
    public func removeMapping(_ context: RequestContext, node: NodeID, ranges: [FuseRemoveMappingOne]) throws(Errno) {
        throw .ENOSYS
    }
    public func interruptAll() {}
}
