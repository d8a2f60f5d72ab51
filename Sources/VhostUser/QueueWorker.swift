import CShim
import Glibc
import Logging
import Synchronization
import SystemSupport

/// What a started queue is made of; fixed while its worker runs.
struct QueueSetup: Sendable {
    var index: Int
    var size: Int
    var descriptorsAddress: UInt64
    var availableAddress: UInt64
    var usedAddress: UInt64
    var lastAvailableIndex: UInt16
    var eventIndex: Bool
    var indirectDescriptors: Bool

    init(index: Int, size: Int, descriptorsAddress: UInt64, availableAddress: UInt64, usedAddress: UInt64,
                lastAvailableIndex: UInt16, eventIndex: Bool, indirectDescriptors: Bool) {
        self.index = index; self.size = size
        self.descriptorsAddress = descriptorsAddress; self.availableAddress = availableAddress; self.usedAddress = usedAddress
        self.lastAvailableIndex = lastAvailableIndex; self.eventIndex = eventIndex; self.indirectDescriptors = indirectDescriptors
    }
}

/// How a queue's requests run.
enum RequestScheduling<Device: VirtioDeviceHandler>: Sendable {
    /// On the queue's own thread (lowest latency); only requests the device
    /// says may block indefinitely go to `blocking`, so the request that
    /// would release them is not stuck behind them.
    case inline(blocking: RequestPool<Device>)
    /// Every request through a shared pool (--thread-pool-size N).
    case pool(RequestPool<Device>)
}

/// Serves one virtqueue: a thread waits for kicks, drains the available
/// ring, hands each chain to the device (inline, or through a shared
/// request pool), returns it on the used ring and interrupts the guest.
/// While it runs it owns the queue's eventfds; `stop()` hands them back.
///
/// @unchecked Sendable: `queue`, `inFlight`, `call`, `err`, `broken` and
/// `stopping` are only touched under `monitor`; `thread`, `kick` and the
/// moves of the descriptors in `start`/`stop` only by the back end's thread
/// while no worker thread or request uses them; everything else is
/// immutable or atomic.
final class QueueWorker<Device: VirtioDeviceHandler>: @unchecked Sendable {
    let index: Int
    private let setup: QueueSetup
    private let memoryMap: GuestMemoryMap
    /// The snapshot the ring pointers were translated through; kept alive while the worker runs.
    private let ringMemory: GuestMemory
    private let device: Device
    private let scheduling: RequestScheduling<Device>
    private let logger: Logger
    private let walker: DescriptorChainWalker
    /// Our own eventfd: signalled by stop() to end the thread's poll.
    private let stopNotifier: OwnedDescriptor
    private var thread: NativeThread?

    private let monitor = Monitor()
    // The fields used per request are exempt from the run-time exclusivity check
    // (swift_beginAccess, about a fifth of the back end's own CPU per request):
    // `monitor` already serializes every access, as the Sendable note above says.
    @exclusivity(unchecked) private var queue: DeviceQueue
    @exclusivity(unchecked) private var inFlight = 0
    private var kick: OwnedDescriptor?
    @exclusivity(unchecked) private var call: OwnedDescriptor?
    private var err: OwnedDescriptor?
    @exclusivity(unchecked) private var broken = false
    /// Set by stop(): a guest that keeps adding requests cannot hold up GET_VRING_BASE.
    @exclusivity(unchecked) private var stopping = false
    /// Refused chains so far; logged sparsely so a hostile guest cannot flood the log.
    private let refusedChains = Atomic<Int>(0)
    /// Timings only at --log-level debug (two clock reads per request otherwise saved).
    private let tracing: Bool
    /// Wakeup fields: the worker's thread only; the rest under `monitor`.
    @exclusivity(unchecked) private var trace = QueueTrace()

    /// Everything that can fail happens here, before any stored property is set (the
    /// compiler's cross-module optimization crashed on a throw after `refusedChains` was).
    convenience init(setup: QueueSetup, memoryMap: GuestMemoryMap, device: Device,
                     scheduling: RequestScheduling<Device>, logger: Logger) throws(VhostUserError) {
        let memory = memoryMap.snapshot
        let rings = try SplitRingPointers(memory: memory, size: setup.size, descriptors: setup.descriptorsAddress,
                                          available: setup.availableAddress, used: setup.usedAddress)
        let notifier = EventNotifier.make()
        guard notifier >= 0 else { throw .system("eventfd", errno: errno) }
        self.init(setup: setup, memoryMap: memoryMap, ringMemory: memory, rings: rings, device: device,
                  scheduling: scheduling, logger: logger, stopNotifier: OwnedDescriptor(notifier))
    }

    private init(setup: QueueSetup, memoryMap: GuestMemoryMap, ringMemory memory: GuestMemory, rings: SplitRingPointers,
                 device: Device, scheduling: RequestScheduling<Device>, logger: Logger,
                 stopNotifier: consuming OwnedDescriptor) {
        self.index = setup.index
        self.setup = setup
        self.memoryMap = memoryMap
        self.ringMemory = memory
        self.device = device
        self.scheduling = scheduling
        self.logger = logger
        self.tracing = logger.logLevel <= .debug
        self.queue = DeviceQueue(size: setup.size, rings: rings, lastAvailableIndex: setup.lastAvailableIndex,
                                 eventIndex: setup.eventIndex)
        self.walker = queue.chainWalker(indirectAllowed: setup.indirectDescriptors)
        self.stopNotifier = stopNotifier
    }

    /// Starts the thread, which uses `descriptors` until `stop()` returns them.
    func start(_ descriptors: consuming VringDescriptors) {
        kick = descriptors.kick.take()
        call = descriptors.call.take()
        err = descriptors.err.take()
        thread = NativeThread(name: "vq\(index)") { [self] in run() }
    }

    /// Stops the thread, waits for requests still in the pool, and returns
    /// the next available index to process (GET_VRING_BASE's answer) and
    /// the descriptors, no longer used by anything here.
    func stop() -> StoppedQueue {
        monitor.withLock { stopping = true }
        EventNotifier.signal(stopNotifier.rawValue)
        thread?.join()
        thread = nil
        let lastAvailableIndex = monitor.withLock {
            // A request waiting for a lock would hold GET_VRING_BASE (and QEMU) until
            // its wait limit: interrupt it (EINTR). Again while waiting, for one
            // that started waiting after the previous round.
            while inFlight > 0 {
                device.interruptBlockedRequests()
                monitor.wait(milliseconds: 50)
            }
            return queue.lastAvailableIndex
        }
        logger.debug("queue \(index): \(traceSummary)")
        // The thread has ended and no request is in flight: nothing else touches them now.
        return StoppedQueue(lastAvailableIndex: lastAvailableIndex,
                            descriptors: VringDescriptors(kick: kick.take(), call: call.take(), err: err.take()))
    }

    /// SET_VRING_CALL while running: QEMU installs the call descriptor after
    /// the ring starts, and swaps it when the guest masks the interrupt.
    /// Returns the previous descriptor, no longer used once this returns.
    func replaceCall(with descriptor: consuming OwnedDescriptor?) -> OwnedDescriptor? {
        var other = descriptor
        monitor.withLock {
            swap(&call, &other)
            // QEMU checks the old descriptor for a pending signal right after
            // sending the message, without waiting for us: a signal landing on
            // it after that check would be lost. A spurious interrupt is harmless.
            if let fd = call?.rawValue { EventNotifier.signal(fd) }
        }
        return other
    }

    /// Requests, wakeups and notifications so far, with daemon time per request at debug level.
    var traceSummary: String { monitor.withLock { trace.summary } }

    /// SET_VRING_ERR while running. Returns the previous descriptor, no longer used once this returns.
    func replaceErr(with descriptor: consuming OwnedDescriptor?) -> OwnedDescriptor? {
        var other = descriptor
        monitor.withLock { swap(&err, &other) }
        return other
    }

    private func run() {
        var buffers = ChainBuffers()
        var memory = GuestMemoryCache()
        // Without a kick descriptor (not started that way) only stop ends the poll; poll skips a negative fd.
        let kickFd = kick?.rawValue ?? -1
        var fds = [pollfd(fd: kickFd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: stopNotifier.rawValue, events: Int16(POLLIN), revents: 0)]
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
                let woken = tracing ? QueueTrace.now() : 0
                EventNotifier.drain(kickFd)
                drain(&buffers, &memory)
                if tracing {
                    let elapsed = QueueTrace.now() &- woken
                    monitor.withLock { trace.wakeups &+= 1; trace.wakeupNanoseconds &+= elapsed }
                }
            } else if fds[0].revents != 0 {
                // POLLHUP/POLLERR/POLLNVAL on the kick fd: nothing more will come; wait for stop.
                logger.debug("queue \(index): kick descriptor revents \(fds[0].revents)")
                fds[0].fd = -1
            }
        }
    }

    /// Processes everything available (`nextHead` re-arms notifications
    /// when the ring runs empty).
    private func drain(_ buffers: inout ChainBuffers, _ memory: inout GuestMemoryCache) {
        var next = nextHead()
        while let head = next {
            // The pools are bound only where used: binding one per request cost a retain and a release.
            if case .pool(let pool) = scheduling {
                pool.submit(RequestPool<Device>.Item(worker: self, head: head))
                next = nextHead()
                continue
            }
            // Inline: the completion takes the next head in the same critical section.
            switch serveInline(head: head, buffers: &buffers, memory: &memory) {
            case .next(let following):
                next = following
            case .blocks(let requestHead):
                if case .inline(let blocking) = scheduling {
                    blocking.submit(RequestPool<Device>.Item(worker: self, head: head, requestHead: requestHead))
                }
                next = nextHead()
            }
        }
    }

    /// The next available head; when the ring is empty, re-arms notifications
    /// and checks once more (in the same critical section) so a request that
    /// raced with re-arming is not lost. nil: sleep until the next kick.
    private func nextHead() -> UInt16? {
        monitor.withLock { popNextLocked() }
    }

    /// nextHead's work; `monitor` is held.
    private func popNextLocked() -> UInt16? {
        guard !broken && !stopping else { return nil }
        do {
            var next = try queue.popAvailable()
            if next == nil && queue.enableNotification() { next = try queue.popAvailable() }
            guard let head = next else { return nil }
            if case .pool = scheduling { inFlight += 1 }
            return head
        } catch {
            // The ring itself is corrupt: stop using it, tell QEMU, keep the daemon up.
            broken = true
            logger.error("queue \(index): broken ring (\(error)); queue stopped")
            if let fd = err?.rawValue { EventNotifier.signal(fd) }
            return nil
        }
    }

    /// What serving a request on the queue's thread led to.
    private enum InlineOutcome {
        /// Completed; the next available head (nil: the ring is empty, notifications re-armed).
        case next(UInt16?)
        /// Not run: it may block (its head, copied once, goes to the blocking pool).
        case blocks(Device.RequestHead)
    }

    /// Runs one request on the queue's thread and completes it, taking the
    /// next head under the same lock (one lock round per request fewer).
    private func serveInline(head: UInt16, buffers: inout ChainBuffers, memory cache: inout GuestMemoryCache) -> InlineOutcome {
        let taken = tracing ? QueueTrace.now() : 0
        switch serve(head: head, prefetched: nil, buffers: &buffers, memory: &cache, pooled: false) {
        case .blocks(let requestHead):
            monitor.withLock { inFlight += 1 }
            return .blocks(requestHead)
        case .reply(let length):
            return .next(monitor.withLock { () -> UInt16? in
                completeLocked(head: head, length: length, pooled: false, taken: taken)
                return popNextLocked()
            })
        }
    }

    /// Runs one request and returns its chain; called by this worker's
    /// thread (`pooled` false) or a pool thread. A request that may block is
    /// not run on the worker's thread: its head (copied once, which the
    /// device decided from) is returned, to go to a pool, which passes it
    /// back as `requestHead` so the head is never read twice.
    @discardableResult
    func process(head: UInt16, requestHead prefetched: Device.RequestHead? = nil, buffers: inout ChainBuffers,
                 memory cache: inout GuestMemoryCache, pooled: Bool) -> Device.RequestHead? {
        let taken = tracing ? QueueTrace.now() : 0
        switch serve(head: head, prefetched: prefetched, buffers: &buffers, memory: &cache, pooled: pooled) {
        case .blocks(let requestHead):
            monitor.withLock { inFlight += 1 }
            return requestHead
        case .reply(let length):
            monitor.withLock { completeLocked(head: head, length: length, pooled: pooled, taken: taken) }
            return nil
        }
    }

    private enum Served {
        /// The reply's length (0 for none, or a refused chain): complete the chain.
        case reply(UInt32)
        /// May block and not on a pool thread: not run.
        case blocks(Device.RequestHead)
    }

    /// Walks the chain and lets the device serve it; nothing under `monitor`.
    @inline(__always)
    private func serve(head: UInt16, prefetched: Device.RequestHead?, buffers: inout ChainBuffers,
                       memory cache: inout GuestMemoryCache, pooled: Bool) -> Served {
        cache.refresh(memoryMap)
        var replyLength = 0
        do {
            try walker.walk(head: head, memory: cache.memory, into: &buffers)
            let requestHead = prefetched ?? buffers.readable.withUnsafeBufferPointer { device.readHead($0) }
            if !pooled && device.mayBlock(requestHead) { return .blocks(requestHead) }
            replyLength = buffers.withSegments { readable, writable in
                device.handle(head: requestHead, readable: readable, writable: writable)
            }
            replyLength = max(0, min(replyLength, buffers.writableBytes))
        } catch {
            let count = refusedChains.add(1, ordering: .relaxed).newValue
            if count & (count - 1) == 0 {
                logger.warning("queue \(index): descriptor chain \(head) refused: \(error) (\(count) so far)")
            }
        }
        return .reply(UInt32(replyLength))
    }

    /// Returns the chain on the used ring and notifies the guest; `monitor` is held.
    private func completeLocked(head: UInt16, length: UInt32, pooled: Bool, taken: UInt64) {
        queue.pushUsed(head: head, length: length)
        if tracing { trace.recordRequest(nanoseconds: QueueTrace.now() &- taken) }
        if pooled {
            inFlight -= 1
            if inFlight == 0 { monitor.broadcast() }
        }
        // Signalling under the lock: the call descriptor may be swapped concurrently.
        // Without one, the notification stays pending for the next completion.
        if let fd = call?.rawValue, queue.needsNotification() {
            EventNotifier.signal(fd)
            trace.notifications &+= 1
        }
    }
}

/// What a stopped worker hands back: where the ring stopped and its descriptors.
struct StoppedQueue: ~Copyable {
    let lastAvailableIndex: UInt16
    var descriptors: VringDescriptors
}
