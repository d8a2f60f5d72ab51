import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
extension PassthroughFileSystem {
    public func opendir(_ context: RequestContext, node: NodeID, flags: OpenFlags) throws(Errno) -> OpenedHandle {
        let inode = try directory(node)
        let handle = try directories.insert(OpenDirectory(try reopen(inode, flags: O_RDONLY | shim_O_DIRECTORY), node: node))
        return OpenedHandle(handle: handle, flags: options.cache.directoryOpenFlags)
    }

    public func readdir(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                        into sink: inout DirectoryEntrySink) throws(Errno) {
        let directory = try directories.get(handle)
        // A host record is a little smaller than a fuse_dirent: reading as many
        // bytes as the reply may hold fetches about what fits.
        try directory.forEachEntry(from: offset, chunk: sink.remaining) { record in
            sink.append(name: record.name, inode: record.inode, type: record.type, offset: record.nextOffset)
        }
    }

    /// A lookup that fails (EMFILE, ENOMEM, ...) ends the batch at that entry:
    /// the guest gets the entries before it and asks again from there, or the
    /// error if it is the first. Only a name that vanished meanwhile is skipped.
    public func readdirplus(_ context: RequestContext, node: NodeID, handle: FileHandle, offset: UInt64,
                            into sink: inout DirectoryEntrySink) throws(Errno) {
        let directory = try directories.get(handle)
        let parent = try inodes.inode(directory.node)
        var failure: Errno?
        // READDIRPLUS records are ~6x larger than host records.
        try directory.forEachEntry(from: offset, chunk: sink.remaining / 4) { record in
            guard sink.fits(nameLength: record.name.count) else { return false }
            if record.isDotOrDotDot {
                return sink.append(name: record.name, inode: record.inode, type: record.type, offset: record.nextOffset)
            }
            // Look the name up (one counted lookup) only once the record is sure to fit.
            switch lookupEntry(in: parent, rawName: record.name) {
            case .success(let entry):
                return sink.append(name: record.name, inode: record.inode, type: record.type, offset: record.nextOffset,
                                   entry: entry)
            case .failure(.ENOENT):
                return true // removed since getdents saw it
            case .failure(let error):
                failure = error
                return false
            }
        }
        if let failure, sink.entryCount == 0 { throw failure }
    }

    /// lookupEntry for a host directory entry name.
    private func lookupEntry(in parent: Inode, rawName: UnsafeRawBufferPointer) -> Result<Entry, Errno> {
        guard rawName.count <= FileName.maxLength else { return .failure(.ENAMETOOLONG) }
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &buffer) { raw -> Result<Entry, Errno> in
            raw.copyMemory(from: rawName)
            raw[rawName.count] = 0
            do throws(Errno) {
                return .success(try lookupEntry(in: parent, name: raw.baseAddress!.assumingMemoryBound(to: CChar.self)))
            } catch {
                return .failure(error)
            }
        }
    }

    public func releasedir(_ context: RequestContext, node: NodeID, handle: FileHandle) throws(Errno) {
        _ = try directories.remove(handle)
    }

    public func fsyncdir(_ context: RequestContext, node: NodeID, handle: FileHandle, dataOnly: Bool) throws(Errno) {
        let directory = try directories.get(handle)
        _ = try systemCall { dataOnly ? fdatasync(directory.fd) : Glibc.fsync(directory.fd) }
    }
}
