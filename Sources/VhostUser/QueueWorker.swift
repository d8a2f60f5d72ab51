import CShim
import FuseServer
import Glibc
import Logging
import ScatterGather
import Synchronization
import SystemSupport

/// What a started queue is made of; fixed while its worker runs.
public struct QueueSetup: Sendable {
    public var index: Int
    public var size: Int
    public var descriptorsAddress: UInt64
    public var availableAddress: UInt64
    public var usedAddress: UInt64
    public var lastAvailableIndex: UInt16
    public var eventIndex: Bool
    public var indirectDescriptors: Bool
    public var kickFd: Int32
    public var callFd: Int32
    public var errFd: Int32

    public init(index: Int, size: Int, descriptorsAddress: UInt64, availableAddress: UInt64, usedAddress: UInt64,
                lastAvailableIndex: UInt16, eventIndex: Bool, indirectDescriptors: Bool,
                kickFd: Int32, callFd: Int32, errFd: Int32) {
        self.index = index; self.size = size
        self.descriptorsAddress = descriptorsAddress; self.availableAddress = availableAddress; self.usedAddress = usedAddress
        self.lastAvailableIndex = lastAvailableIndex; self.eventIndex = eventIndex; self.indirectDescriptors = indirectDescriptors
        self.kickFd = kickFd; self.callFd = callFd; self.errFd = errFd
    }
}

/// How a queue's requests run.
public enum RequestScheduling: Sendable {
    /// On the queue's own thread (lowest latency); only requests that may
    /// block indefinitely (F_SETLKW, blocking flock) go to `blocking`, so the
    /// request that would release them is not stuck behind them.
    case inline(blocking: RequestPool)
    /// Every request through a shared pool (--thread-pool-size N).
    case pool(RequestPool)
}

/// Serves one virtqueue: a thread waits for kicks, drains the available
/// ring, hands each chain to the FUSE handler (inline, or through a shared
/// request pool), returns it on the used ring and interrupts the guest. The descriptors in `QueueSetup` are borrowed from the back end,
/// which closes them only after `stop()`.
///
/// @unchecked Sendable: `queue`, `inFlight`, `callFd`, `broken` and
/// `stopping` are only touched under `monitor`; `thread` only by the back
/// end's thread (start/stop); everything else is immutable or atomic.
public final class QueueWorker: @unchecked Sendable {
    public let index: Int
    private let setup: QueueSetup
    private let memoryMap: GuestMemoryMap
    /// The snapshot the ring pointers were translated through; kept alive while the worker runs.
    private let ringMemory: GuestMemory
    private let handler: any FuseRequestHandler
    private let scheduling: RequestScheduling
    private let logger: Logger
    private let walker: DescriptorChainWalker
    private let stopFd: Int32
    private var thread: NativeThread?

    private let monitor = Monitor()
    private var queue: DeviceQueue
    private var inFlight = 0
    private var callFd: Int32
    private var broken = false
    /// Set by stop(): a guest that keeps adding requests cannot hold up GET_VRING_BASE.
    private var stopping = false
    /// Refused chains so far; logged sparsely so a hostile guest cannot flood the log.
    private let refusedChains = Atomic<Int>(0)

    public init(setup: QueueSetup, memoryMap: GuestMemoryMap, handler: any FuseRequestHandler,
                scheduling: RequestScheduling, logger: Logger) throws(VhostUserError) {
        let memory = memoryMap.snapshot
        let rings = try SplitRingPointers(memory: memory, size: setup.size, descriptors: setup.descriptorsAddress,
                                          available: setup.availableAddress, used: setup.usedAddress)
        self.index = setup.index
        self.setup = setup
        self.memoryMap = memoryMap
        self.ringMemory = memory
        self.handler = handler
        self.scheduling = scheduling
        self.logger = logger
        self.queue = DeviceQueue(size: setup.size, rings: rings, lastAvailableIndex: setup.lastAvailableIndex,
                                 eventIndex: setup.eventIndex)
        self.walker = queue.chainWalker(indirectAllowed: setup.indirectDescriptors)
        self.callFd = setup.callFd
        self.stopFd = EventNotifier.make()
        guard stopFd >= 0 else { throw .system("eventfd", errno: errno) }
    }

    deinit { close(stopFd) }

    public func start() {
        thread = NativeThread(name: "vq\(index)") { [self] in run() }
    }

    /// Stops the thread, waits for requests still in the pool, and returns
    /// the next available index to process (GET_VRING_BASE's answer).
    public func stop() -> UInt16 {
        monitor.withLock { stopping = true }
        EventNotifier.signal(stopFd)
        thread?.join()
        thread = nil
        return monitor.withLock {
            // A request waiting for a lock would hold GET_VRING_BASE (and QEMU) until
            // its wait limit: interrupt it (EINTR). Again while waiting, for one
            // that started waiting after the previous round.
            while inFlight > 0 {
                handler.interruptBlockedRequests()
                monitor.wait(milliseconds: 50)
            }
            return queue.lastAvailableIndex
        }
    }

    /// SET_VRING_CALL while running: QEMU installs the call descriptor after
    /// the ring starts, and swaps it when the guest masks the interrupt.
    /// Returns the previous descriptor, no longer used once this returns.
    public func replaceCallFd(_ fd: Int32) -> Int32 {
        monitor.withLock {
            let old = callFd
            callFd = fd
            // QEMU checks the old descriptor for a pending signal right after
            // sending the message, without waiting for us: a signal landing on
            // it after that check would be lost. A spurious interrupt is harmless.
            if fd >= 0 { EventNotifier.signal(fd) }
            return old
        }
    }

    private func run() {
        var buffers = ChainBuffers()
        var memory = GuestMemoryCache()
        var fds = [pollfd(fd: setup.kickFd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stopFd, events: Int16(POLLIN), revents: 0)]
        // Requests may already be waiting (a restart, or a kick sent before we polled).
        drain(&buffers, &memory)
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("queue \(index): poll failed: errno \(errno)")
                return
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) != 0 {
                EventNotifier.drain(setup.kickFd)
                drain(&buffers, &memory)
            } else if fds[0].revents != 0 {
                // POLLHUP/POLLERR/POLLNVAL on the kick fd: nothing more will come; wait for stop.
                logger.debug("queue \(index): kick descriptor revents \(fds[0].revents)")
                fds[0].fd = -1
            }
        }
    }

    /// Processes everything available, then re-arms notifications and
    /// checks once more so a request that raced with re-arming is not lost.
    private func drain(_ buffers: inout ChainBuffers, _ memory: inout GuestMemoryCache) {
        while true {
            while let head = nextHead() {
                switch scheduling {
                case .pool(let pool):
                    pool.submit(RequestPool.Item(worker: self, head: head))
                case .inline(let blocking):
                    if let requestHead = process(head: head, buffers: &buffers, memory: &memory, pooled: false) {
                        blocking.submit(RequestPool.Item(worker: self, head: head, requestHead: requestHead))
                    }
                }
            }
            let more = monitor.withLock { !broken && !stopping && queue.enableNotification() }
            if !more { return }
        }
    }

    private func nextHead() -> UInt16? {
        monitor.withLock {
            guard !broken && !stopping else { return nil }
            do {
                guard let head = try queue.popAvailable() else { return nil }
                if case .pool = scheduling { inFlight += 1 }
                return head
            } catch {
                // The ring itself is corrupt: stop using it, tell QEMU, keep the daemon up.
                broken = true
                logger.error("queue \(index): broken ring (\(error)); queue stopped")
                if setup.errFd >= 0 { EventNotifier.signal(setup.errFd) }
                return nil
            }
        }
    }

    /// Runs one request and returns its chain; called by this worker's
    /// thread (`pooled` false) or a pool thread. A request that may block is
    /// not run on the worker's thread: its head (the header copied once, which
    /// the handler decided from) is returned, to go to a pool, which passes
    /// it back as `requestHead` so the header is never read twice.
    @discardableResult
    func process(head: UInt16, requestHead prefetched: FuseRequestHead? = nil, buffers: inout ChainBuffers,
                 memory cache: inout GuestMemoryCache, pooled: Bool) -> FuseRequestHead? {
        let memory = cache.current(memoryMap)
        var replyLength = 0
        do {
            try walker.walk(head: head, memory: memory, into: &buffers)
            let requestHead = prefetched ?? buffers.readable.withUnsafeBufferPointer { handler.readHead(ScatterReader(segments: $0)) }
            if !pooled && requestHead.mayBlock {
                monitor.withLock { inFlight += 1 }
                return requestHead
            }
            replyLength = buffers.readable.withUnsafeBufferPointer { readable in
                buffers.writable.withUnsafeBufferPointer { writable in
                    var request = ScatterReader(segments: readable)
                    var reply = ScatterWriter(segments: writable)
                    return handler.handle(head: requestHead, request: &request, reply: &reply)
                }
            }
            replyLength = max(0, min(replyLength, buffers.writableBytes))
        } catch {
            let count = refusedChains.add(1, ordering: .relaxed).newValue
            if count & (count - 1) == 0 {
                logger.warning("queue \(index): descriptor chain \(head) refused: \(error) (\(count) so far)")
            }
        }
        complete(head: head, length: UInt32(replyLength), pooled: pooled)
        return nil
    }

    private func complete(head: UInt16, length: UInt32, pooled: Bool) {
        monitor.withLock {
            queue.pushUsed(head: head, length: length)
            if pooled {
                inFlight -= 1
                if inFlight == 0 { monitor.broadcast() }
            }
            // Signalling under the lock: the call descriptor may be swapped concurrently.
            // Without one, the notification stays pending for the next completion.
            if callFd >= 0 && queue.needsNotification() { EventNotifier.signal(callFd) }
        }
    }
}
