import FuseServer
import ScatterGather
import Glibc
import VhostUser

/// The virtio-fs device behind the vhost-user back end: each request chain
/// is one FUSE request for `handler`. The FUSE knowledge the back end must
/// not have lives here: a FUSE_SETLKW may block (the handler decides from
/// the header it copied), and the DAX cache window is shared memory region 0.
///
/// Generic over the handler, not holding `any FuseRequestHandler`: with the
/// concrete FuseServer<PassthroughFileSystem> the whole request path (back end,
/// FUSE core, filesystem) is specialized across modules; through an existential
/// the FUSE core ran unspecialized, every FileSystem call a witness-table call.
public struct VirtioFSDevice<Handler: FuseRequestHandler>: VirtioDeviceHandler {
    public let handler: Handler
    public let sharedMemory: VirtioFSSharedMemoryOffer?

    public init(handler: Handler, sharedMemory: VirtioFSSharedMemoryOffer? = nil) {
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
