import FuseServer
import SwiftFSProtocol
import VhostUser

/// DAX through the vhost-user SHMEM feature (newer QEMU): the front end maps
/// the file's descriptor into the device's shared memory region (the
/// virtio-fs cache window, shmid 0) on SHMEM_MAP, so the guest reads and
/// writes the host page cache itself. Nothing to copy, write back or refresh.
public final class SharedMemoryDaxMapper: DaxMapper {
    public let channel: VhostUserBackendChannel
    public let windowSize: UInt64
    public var holdsCopies: Bool { false }

    public init(channel: VhostUserBackendChannel, windowSize: UInt64) {
        self.channel = channel
        self.windowSize = windowSize
    }

    public func map(_ range: DaxRange, file: Int32, writable: Bool) throws(Errno) {
        var mapping = Self.mapping(range)
        mapping.fdOffset = range.fileOffset
        mapping.flags = writable ? VhostUserSharedMemoryMapping.readWrite : 0
        try channel.send(.shmemMap, mapping, passing: file)
    }

    public func unmap(_ range: DaxRange) throws(Errno) {
        try channel.send(.shmemUnmap, Self.mapping(range))
    }

    /// The guest's stores are already in the file's pages; FSYNC's fsync persists them.
    public func writeBack(_ range: DaxRange, file: Int32, fileSize: UInt64) throws(Errno) {}

    /// The front end unmaps the whole region across a device reset: nothing is kept here.
    public func forgetAll() {}

    private static func mapping(_ range: DaxRange) -> VhostUserSharedMemoryMapping {
        var mapping = VhostUserSharedMemoryMapping()
        mapping.shmid = VirtioFS.cacheWindowID
        mapping.shmOffset = range.windowOffset
        mapping.length = range.length
        return mapping
    }
}
