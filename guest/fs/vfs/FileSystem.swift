// The interface between the VFS and one concrete filesystem.
//
// Embedded Swift has no existentials of non-class protocols, so filesystems,
// their nodes, open files and directory streams are class hierarchies: each
// filesystem subclasses these bases and overrides what it supports. The base
// implementations fail with ENOSYS, like a FUSE server's defaults.

/// A file or directory inside one filesystem; each filesystem subclasses it.
class VNode {}

/// One name in a directory listing.
struct DirectoryEntry {
    var name: String
    var inode: UInt64
    var kind: FileKind
}

class FileSystem {
    /// Short name for reports ("ramfs", "virtiofs:share").
    var name: String { "filesystem" }

    var rootNode: VNode { fatalError("rootNode not implemented") }

    /// The node called `name` in `directory`; ENOTDIR if `directory` is not one.
    func lookup(_ name: String, in directory: VNode) throws(Errno) -> VNode { throw .ENOSYS }

    func attributes(of node: VNode) throws(Errno) -> FileStat { throw .ENOSYS }

    /// Cheaper than attributes(of:) where the kind is cached; it never changes for a node.
    func kind(of node: VNode) throws(Errno) -> FileKind { try attributes(of: node).kind }

    func setAttributes(of node: VNode, _ changes: AttributeChanges) throws(Errno) -> FileStat { throw .ENOSYS }

    /// Opens an existing regular file (the VFS handles directories itself).
    func open(_ node: VNode, flags: OpenFlags) throws(Errno) -> OpenFile { throw .ENOSYS }

    /// Creates and opens `name`; if it exists, EEXIST with `.exclusive`, else opens it
    /// (honouring `.truncate`).
    func create(_ name: String, in directory: VNode, permissions: UInt32, flags: OpenFlags) throws(Errno) -> OpenFile {
        throw .ENOSYS
    }

    func makeDirectory(_ name: String, in directory: VNode, permissions: UInt32) throws(Errno) { throw .ENOSYS }

    /// unlink(): EISDIR for directories.
    func removeFile(_ name: String, in directory: VNode) throws(Errno) { throw .ENOSYS }

    /// rmdir(): ENOTDIR for files, ENOTEMPTY unless empty.
    func removeDirectory(_ name: String, in directory: VNode) throws(Errno) { throw .ENOSYS }

    /// rename() within this filesystem, replacing an existing target as POSIX allows.
    func rename(_ name: String, in directory: VNode, to newName: String, in newDirectory: VNode) throws(Errno) {
        throw .ENOSYS
    }

    func openDirectory(_ node: VNode) throws(Errno) -> DirectoryStream { throw .ENOSYS }

    func statistics() throws(Errno) -> FileSystemStats { throw .ENOSYS }

    /// Pushes anything the filesystem holds back (gathered writes, batched forgets) to its backing store.
    func synchronize() throws(Errno) {}

    /// Trims caches and sends deferred messages. The VFS calls it only between operations,
    /// when no node of this filesystem is in use except by open files.
    func housekeeping() {}

    /// Whether housekeeping() does anything; the VFS calls it only on those that say so,
    /// since it runs at the start of every path call.
    var needsHousekeeping: Bool { false }

    /// Forgets cached names, attributes and data (Linux's drop_caches), so the next
    /// calls measure the cold path. Filesystems without a cache do nothing.
    func dropCaches() throws(Errno) {}
}

/// An open regular file. Offsets belong to the file descriptor, so every call names its position.
class OpenFile {
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int { throw .ENOSYS }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int { throw .ENOSYS }

    func attributes() throws(Errno) -> FileStat { throw .ENOSYS }

    /// The end of file an O_APPEND write starts at.
    func sizeForAppend() throws(Errno) -> Int { try attributes().size }

    func truncate(to size: Int) throws(Errno) { throw .ENOSYS }

    func sync() throws(Errno) { throw .ENOSYS }

    /// SEEK_DATA / SEEK_HOLE. Without sparse knowledge: all data, one hole at the end.
    func seek(_ origin: SeekOrigin, from offset: Int) throws(Errno) -> Int {
        let size = try attributes().size
        guard offset >= 0, offset < size else { throw .ENXIO }
        return origin == .data ? offset : size
    }

    /// Called once when the last descriptor closes.
    func close() throws(Errno) {}
}

/// An open directory being listed.
class DirectoryStream {
    /// The next entry (including "." and ".."), or nil at the end.
    func next() throws(Errno) -> DirectoryEntry? { nil }

    func close() {}
}
