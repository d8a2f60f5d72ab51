import FuseServer

/// DAX through vhost-user SHMEM: the front end creates the cache window and
/// maps files into it on the back end's SHMEM_MAP requests.
public struct VirtioFSSharedMemoryOffer: Sendable {
    /// Bytes of the cache window (GET_SHMEM_CONFIG).
    public var size: UInt64
    /// Gets a SharedMemoryDaxMapper once the front end takes SHMEM and hands over its channel.
    public var mappers: DaxMapperSlot
    public init(size: UInt64, mappers: DaxMapperSlot) { self.size = size; self.mappers = mappers }
}
