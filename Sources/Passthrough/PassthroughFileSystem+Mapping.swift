import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// The DAX window: SETUPMAPPING, REMOVEMAPPING, and the hooks that keep a
/// copying window coherent (called from the file operations).
extension PassthroughFileSystem {
    public var mapAlignmentShift: UInt16 { DaxGeometry.alignmentShift }

    /// The mapper of this session, or ENOSYS when there is no window.
    private func daxMapper() throws(Errno) -> (DaxMappingTable, any DaxMapper) {
        guard let dax, let mapper = dax.mappers.mapper else { throw Errno.ENOSYS }
        return (dax, mapper)
    }

    /// Checks every field before anything changes; the file gets a descriptor
    /// of its own for the mapping's life (reopened from the node, so a
    /// write-back never goes through the guest's O_APPEND handle).
    public func setupMapping(_ context: RequestContext, node: NodeID, handle: FileHandle?, range: DaxRange,
                             flags: UInt64) throws(Errno) {
        let (dax, mapper) = try daxMapper()
        guard flags & ~(FuseFlag.mappingRead | FuseFlag.mappingWrite) == 0 else { throw Errno.EINVAL }
        let writable = flags & FuseFlag.mappingWrite != 0
        try DaxMappingTable.checkWindowRange(offset: range.windowOffset, length: range.length, windowSize: mapper.windowSize)
        guard range.fileOffset % DaxGeometry.alignment == 0,
              range.fileOffset <= UInt64(Int64.max) - range.length else { throw Errno.EINVAL }
        let inode = try inodes.inode(node)
        if let handle {
            let opened = try file(handle)
            guard opened.node == node else { throw Errno.EBADF }
            // The handle must allow what the mapping does: reading always, writing for a write mapping.
            let accessMode = try systemCall { fcntl(opened.fd, F_GETFL) } & O_ACCMODE
            guard accessMode != O_WRONLY, !writable || accessMode == O_RDWR else { throw Errno.EACCES }
        }
        guard inode.isRegularFile else { throw inode.isDirectory ? Errno.EISDIR : Errno.EINVAL }
        let file = OpenFile(try reopen(inode, flags: writable ? O_RDWR : O_RDONLY), node: node)
        try dax.map(range, file: file, writable: writable, mapper: mapper)
    }

    public func removeMapping(_ context: RequestContext, node: NodeID, ranges: [FuseRemoveMappingOne]) throws(Errno) {
        let (dax, mapper) = try daxMapper()
        guard !ranges.isEmpty else { throw Errno.EINVAL }
        for range in ranges {
            try DaxMappingTable.checkWindowRange(offset: range.moffset, length: range.len, windowSize: mapper.windowSize)
        }
        try dax.unmap(ranges.map { ($0.moffset, $0.len) }, mapper: mapper)
    }
}
