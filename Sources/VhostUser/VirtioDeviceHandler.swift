import Glibc

/// The device behind a vhost-user back end, as rust-vmm's vhost-user-backend
/// splits it: the back end speaks the control protocol and runs the
/// virtqueues; the device serves the requests. The back end never looks
/// inside a request; the device never sees a ring or a vhost-user message.
///
/// A request is one descriptor chain: device-readable segments (the request)
/// followed by device-writable ones (room for the reply), in guest memory,
/// valid only during the call that receives them.
///
/// Called concurrently from several worker threads.
public protocol VirtioDeviceHandler: Sendable {
    /// What the device copies out of a request to decide how it runs. The back
    /// end hands the same copy back with the request, so the decision and the
    /// service see the same bytes even if the guest changes its memory between.
    associatedtype RequestHead: Sendable

    /// Copies the head of the request in `readable`.
    func readHead(_ readable: UnsafeBufferPointer<iovec>) -> RequestHead
    /// May the request wait indefinitely (for a lock)? It then runs on the
    /// blocking pool, not on its queue's thread, so the request that would
    /// release it is not stuck behind it.
    func mayBlock(_ head: RequestHead) -> Bool
    /// Serves the request whose head is `head` (`readable` still starts with
    /// the bytes it was copied from); writes the reply into `writable` and
    /// returns the bytes written (0: no reply, or the request was dropped).
    func handle(head: RequestHead, readable: UnsafeBufferPointer<iovec>, writable: UnsafeBufferPointer<iovec>) -> Int
    /// Ends every request that is waiting indefinitely, at once: a queue
    /// being stopped (GET_VRING_BASE) must not wait for them.
    func interruptBlockedRequests()
    /// The driver is gone: the front end reset the device (RESET_DEVICE,
    /// RESET_OWNER; its queues are stopped first) or hung up (queues may still
    /// finish requests no one will read). Drop what the device keeps for that
    /// driver: a new one starts from nothing.
    func reset()

    /// Sizes of the device's VIRTIO shared memory regions, indexed by shmid;
    /// empty for none. With any, the back end offers BACKEND_REQ and SHMEM
    /// and reports them in GET_SHMEM_CONFIG.
    var sharedMemoryRegions: [UInt64] { get }
    /// The front end agreed on SHMEM and handed over its channel: from now on
    /// the device maps into its regions with SHMEM_MAP/UNMAP on `channel`.
    func sharedMemoryChannelOpened(_ channel: VhostUserBackendChannel)
}

extension VirtioDeviceHandler {
    public func mayBlock(_ head: RequestHead) -> Bool { false }
    public func interruptBlockedRequests() {}
    public func reset() {}
    public var sharedMemoryRegions: [UInt64] { [] }
    public func sharedMemoryChannelOpened(_ channel: VhostUserBackendChannel) {}
}
