import FuseServer
import ScatterGather
import Glibc
import VhostUser

/// The virtio-fs device behind the vhost-user back end: each request chain
/// is one FUSE request for `handler`. The FUSE knowledge the back end must
/// not have lives here: a FUSE_SETLKW may block (the handler decides from
/// the header it copied), and the DAX cache window is shared memory region 0.
public struct VirtioFSDevice: VirtioDeviceHandler {
    /// DAX through vhost-user SHMEM: the front end creates the cache window and
    /// maps files into it on the back end's SHMEM_MAP requests.
    public struct SharedMemoryOffer: Sendable {
        /// Bytes of the cache window (GET_SHMEM_CONFIG).
        public var size: UInt64
        /// Gets a SharedMemoryDaxMapper once the front end takes SHMEM and hands over its channel.
        public var mappers: DaxMapperSlot
        public init(size: UInt64, mappers: DaxMapperSlot) { self.size = size; self.mappers = mappers }
    }

    public let handler: any FuseRequestHandler
    public let sharedMemory: SharedMemoryOffer?

    public init(handler: any FuseRequestHandler, sharedMemory: SharedMemoryOffer? = nil) {
        self.handler = handler
        self.sharedMemory = sharedMemory
    }

    public func readHead(_ readable: UnsafeBufferPointer<iovec>) -> FuseRequestHead {
        handler.readHead(ScatterReader(segments: readable))
    }

    public func mayBlock(_ head: FuseRequestHead) -> Bool { head.mayBlock }

    public func handle(head: FuseRequestHead, readable: UnsafeBufferPointer<iovec>,
                       writable: UnsafeBufferPointer<iovec>) -> Int {
        var request = ScatterReader(segments: readable)
        var reply = ScatterWriter(segments: writable)
        return handler.handle(head: head, request: &request, reply: &reply)
    }

    public func interruptBlockedRequests() { handler.interruptBlockedRequests() }

    /// The FUSE session ends with the driver; the front end dropped the cache window's mappings.
    public func reset() { handler.deviceReset() }

    /// shmid 0: the virtio-fs cache window.
    public var sharedMemoryRegions: [UInt64] { sharedMemory.map { [$0.size] } ?? [] }

    public func sharedMemoryChannelOpened(_ channel: VhostUserBackendChannel) {
        guard let offer = sharedMemory else { return }
        offer.mappers.install(SharedMemoryDaxMapper(channel: channel, windowSize: offer.size))
    }
}
