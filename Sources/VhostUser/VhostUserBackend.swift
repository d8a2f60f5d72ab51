import CShim
import Glibc
import SystemSupport
import Logging
import SwiftFSProtocol

/// What the back end offers whatever its device.
public enum VhostUserBackendOffer {
    public static let features: UInt64 = VirtioFeature.version1 | VirtioFeature.ringIndirectDescriptors
        | VirtioFeature.ringEventIndex | VirtioFeature.vhostUserProtocolFeatures
    public static let protocolFeatures: UInt64 = VhostUserProtocolFeature.multiQueue
        | VhostUserProtocolFeature.replyAck | VhostUserProtocolFeature.resetDevice
        | VhostUserProtocolFeature.configureMemSlots
}

/// The back end of a vhost-user device: answers the front end's (QEMU's)
/// control messages, keeps the memory table and ring setup, and runs a
/// `QueueWorker` for every started and enabled queue, which hands each
/// request to `Device`. Runs on one thread.
public final class VhostUserBackend<Device: VirtioDeviceHandler> {
    public struct Configuration: Sendable {
        /// Queues we accept (virtio-fs: the high-priority queue plus request queues).
        public var maxQueues: Int
        /// 0: each queue's thread processes its requests, and only those the
        /// device says may block go to a pool of up to `blockingThreads`;
        /// N: every request goes through a shared pool of N threads.
        public var threadPoolSize: Int
        public var blockingThreads = 64
        public var maxMemorySlots: Int

        public init(maxQueues: Int = 1 + 64, threadPoolSize: Int = 0, maxMemorySlots: Int = 32) {
            self.maxQueues = maxQueues
            self.threadPoolSize = threadPoolSize
            self.maxMemorySlots = maxMemorySlots
        }
    }

    /// Only for a device with shared memory: the back-end channel and SHMEM.
    public var offeredProtocolFeatures: UInt64 {
        guard !device.sharedMemoryRegions.isEmpty else { return VhostUserBackendOffer.protocolFeatures }
        return VhostUserBackendOffer.protocolFeatures | VhostUserProtocolFeature.backendRequests
            | VhostUserProtocolFeature.sharedMemory
    }

    private let configuration: Configuration
    private let device: Device
    private let logger: Logger
    private let memoryMap = GuestMemoryMap()
    private let scheduling: RequestScheduling<Device>
    private let pool: RequestPool<Device>
    private var vrings: [VringState<Device>]
    private var ackedFeatures: UInt64 = 0
    private var ackedProtocolFeatures: UInt64 = 0
    /// The front end's channel for our requests (SET_BACKEND_REQ_FD).
    private(set) var backendChannel: VhostUserBackendChannel?

    public init(device: Device, configuration: Configuration = .init(), logger: Logger) {
        self.device = device
        self.configuration = configuration
        self.logger = logger
        self.vrings = (0..<configuration.maxQueues).map { _ in VringState() }
        if configuration.threadPoolSize > 0 {
            pool = RequestPool(maxThreads: configuration.threadPoolSize)
            scheduling = .pool(pool)
        } else {
            pool = RequestPool(maxThreads: configuration.blockingThreads)
            scheduling = .inline(blocking: pool)
        }
    }

    deinit {
        stopAll()
        pool.shutdown()
        // The vrings close their descriptors as they go.
    }

    /// Serves one front end until it disconnects. Throws only when the
    /// stream itself is corrupt (bad framing); bad requests get error replies.
    public func serve(_ connection: borrowing VhostUserConnection) throws(VhostUserError) {
        // The driver goes with the connection (or a corrupt stream): its device state too.
        defer { device.reset() }
        while let message = try connection.receive() {
            try dispatch(message, connection)
        }
        // Workers keep running: the caller either exits (guest memory is
        // gone, and a request blocked on a lock must not delay that) or
        // lets the back end go, which stops them.
        logger.info("front end disconnected")
        for (i, vring) in vrings.enumerated() {
            if let worker = vring.worker { logger.debug("queue \(i) so far: \(worker.traceSummary)") }
        }
    }

    /// Stops every queue worker (on disconnect or shutdown).
    public func stopAll() {
        for i in vrings.indices { stopWorker(i) }
    }

    /// The guest memory as currently mapped (for tests and diagnostics).
    public var memory: GuestMemory { memoryMap.snapshot }

    private var protocolFeaturesNegotiated: Bool { ackedFeatures & VirtioFeature.vhostUserProtocolFeatures != 0 }
    private var replyAckNegotiated: Bool { ackedProtocolFeatures & VhostUserProtocolFeature.replyAck != 0 }

    private func dispatch(_ message: VhostUserMessage, _ connection: borrowing VhostUserConnection) throws(VhostUserError) {
        let fds = message.fds  // closed with the message unless a handler takes them
        let code = message.header.request
        guard let request = message.request else {
            logger.warning("unknown vhost-user request \(code)")
            if message.header.needsReply && replyAckNegotiated { try connection.reply(to: code, VhostUserU64(1)) }
            return
        }
        logger.trace("vhost-user \(request) size \(message.header.size) fds \(fds.count)")
        var answered = false
        var failure: VhostUserError?
        do throws(VhostUserError) {
            guard !message.descriptorsDropped else {
                throw .invalidMessage("more than \(VhostUserConnection.maxFileDescriptors) file descriptors")
            }
            answered = try handle(request, message, fds: fds, connection)
        } catch {
            logger.error("\(request): \(error)")
            failure = error
        }
        if !answered {
            if message.header.needsReply && replyAckNegotiated {
                try connection.reply(to: code, VhostUserU64(failure == nil ? 0 : 1))
            } else if isGetRequest(request) {
                // A GET that failed still owes the front end a reply; an empty payload marks failure.
                try connection.reply(to: code, payload: UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
    }

    private func isGetRequest(_ request: VhostUserRequest) -> Bool {
        switch request {
        case .getFeatures, .getProtocolFeatures, .getVringBase, .getQueueNum, .getConfig, .getMaxMemSlots,
             .getInflightFd, .getStatus, .setLogBase, .getShmemConfig:
            true
        default:
            false
        }
    }

    /// Handles one request; returns true if it already sent its reply.
    private func handle(_ request: VhostUserRequest, _ message: VhostUserMessage, fds: ReceivedDescriptors,
                        _ connection: borrowing VhostUserConnection) throws(VhostUserError) -> Bool {
        switch request {
        case .getFeatures:
            try connection.reply(to: request.rawValue, VhostUserU64(VhostUserBackendOffer.features))
            return true
        case .setFeatures:
            let features = try payload(message, VhostUserU64.self).value
            guard features & ~VhostUserBackendOffer.features == 0 else {
                throw .invalidMessage("features 0x\(String(features, radix: 16)) not offered")
            }
            let changed = features != ackedFeatures
            ackedFeatures = features
            logger.debug("acked features 0x\(String(features, radix: 16))")
            // Workers captured EVENT_IDX and INDIRECT_DESC when they started.
            if changed { restartRunningWorkers() }
        case .getProtocolFeatures:
            try connection.reply(to: request.rawValue, VhostUserU64(offeredProtocolFeatures))
            return true
        case .setProtocolFeatures:
            let features = try payload(message, VhostUserU64.self).value
            ackedProtocolFeatures = features & offeredProtocolFeatures
            logger.debug("acked protocol features 0x\(String(features, radix: 16))")
        case .setOwner:
            break
        case .resetOwner, .resetDevice:
            resetDevice()
        case .getQueueNum:
            try connection.reply(to: request.rawValue, VhostUserU64(UInt64(configuration.maxQueues)))
            return true
        case .getMaxMemSlots:
            try connection.reply(to: request.rawValue, VhostUserU64(UInt64(configuration.maxMemorySlots)))
            return true
        case .setMemTable:
            try setMemoryTable(message, fds: fds)
        case .addMemReg:
            try addMemoryRegion(message, fds: fds)
        case .remMemReg:
            let description = try payload(message, VhostUserSingleMemoryRegion.self).region
            guard let smaller = memoryMap.snapshot.removing(guestPhysicalAddress: description.guestPhysicalAddress,
                                                            size: description.memorySize)
            else { throw .invalidMemoryRegion("no region at 0x\(String(description.guestPhysicalAddress, radix: 16)) to remove") }
            replaceMemory(with: smaller)
        case .setVringNum:
            let state = try payload(message, VhostUserVringState.self)
            let i = try queueIndex(state.index)
            guard SplitVirtqueueLayout.isValidSize(Int(state.num)) else { throw .invalidQueue("size \(state.num)") }
            vrings[i].size = Int(state.num)
        case .setVringAddr:
            let address = try payload(message, VhostUserVringAddress.self)
            let i = try queueIndex(address.index)
            vrings[i].descriptorsAddress = address.descriptors
            vrings[i].availableAddress = address.available
            vrings[i].usedAddress = address.used
            vrings[i].addressesSet = true
        case .setVringBase:
            let state = try payload(message, VhostUserVringState.self)
            let i = try queueIndex(state.index)
            guard state.num <= UInt32(UInt16.max) else { throw .invalidQueue("base \(state.num)") }
            vrings[i].lastAvailableIndex = UInt16(state.num)
        case .getVringBase:
            let state = try payload(message, VhostUserVringState.self)
            let i = try queueIndex(state.index)
            stopWorker(i)
            vrings[i].started = false
            // The ring is stopped; a later SET_VRING_KICK starts it again.
            vrings[i].descriptors.kick = nil
            try connection.reply(to: request.rawValue,
                                 VhostUserVringState(index: state.index, num: UInt32(vrings[i].lastAvailableIndex)))
            return true
        case .setVringKick, .setVringCall, .setVringErr:
            try setVringDescriptor(request, message, fds: fds)
        case .setVringEnable:
            let state = try payload(message, VhostUserVringState.self)
            let i = try queueIndex(state.index)
            vrings[i].enabled = state.num != 0
            logger.debug("queue \(i) \(state.num != 0 ? "enabled" : "disabled")")
            if state.num == 0 { stopWorker(i) } else { startWorkerIfReady(i) }
        case .setLogBase:
            // Dirty logging is not offered; answer so a confused front end does not hang.
            try connection.reply(to: request.rawValue, VhostUserU64(0))
            return true
        case .setLogFd:
            break
        case .setBackendReqFd:
            try setBackendChannel(fds: fds)
        case .getShmemConfig:
            try connection.reply(to: request.rawValue, try sharedMemoryConfig())
            return true
        case .getConfig:
            // CONFIG is not offered (QEMU keeps the tag); an empty reply means failure.
            try connection.reply(to: request.rawValue, payload: UnsafeRawBufferPointer(start: nil, count: 0))
            return true
        default:
            throw .invalidMessage("\(request) is not supported")
        }
        return false
    }

    /// SET_BACKEND_REQ_FD: keeps the channel; with SHMEM agreed, the device maps through it.
    private func setBackendChannel(fds: ReceivedDescriptors) throws(VhostUserError) {
        guard ackedProtocolFeatures & VhostUserProtocolFeature.backendRequests != 0 else {
            throw .invalidMessage("SET_BACKEND_REQ_FD without the BACKEND_REQ protocol feature")
        }
        guard fds.count == 1 else { throw .invalidMessage("SET_BACKEND_REQ_FD needs one descriptor") }
        let channel = VhostUserBackendChannel(descriptor: fds.take(0), awaitsReplies: replyAckNegotiated)
        backendChannel = channel
        let regions = device.sharedMemoryRegions
        if !regions.isEmpty, ackedProtocolFeatures & VhostUserProtocolFeature.sharedMemory != 0 {
            device.sharedMemoryChannelOpened(channel)
            logger.info("shared memory (\(regions.map { "\($0 >> 20) MiB" }.joined(separator: ", "))) through vhost-user SHMEM_MAP")
        }
    }

    /// GET_SHMEM_CONFIG: the device's shared memory regions by shmid (none: all zero).
    private func sharedMemoryConfig() throws(VhostUserError) -> VhostUserSharedMemoryConfig {
        let regions = device.sharedMemoryRegions
        var config = VhostUserSharedMemoryConfig()
        guard regions.count <= VhostUserSharedMemoryConfig.maxRegions else {
            throw .invalidMessage("\(regions.count) shared memory regions, at most \(VhostUserSharedMemoryConfig.maxRegions) fit")
        }
        config.regionCount = UInt32(regions.count)
        withUnsafeMutableBytes(of: &config.sizes) { sizes in
            for (shmid, size) in regions.enumerated() {
                sizes.storeBytes(of: size, toByteOffset: shmid * MemoryLayout<UInt64>.size, as: UInt64.self)
            }
        }
        return config
    }

    private func payload<T: WireRecord>(_ message: VhostUserMessage, _: T.Type) throws(VhostUserError) -> T {
        guard let value = message.decode(T.self) else {
            throw .invalidMessage("\(message.request.map { "\($0)" } ?? "request") payload of \(message.payload.count) bytes, need \(T.wireSize)")
        }
        return value
    }

    private func queueIndex(_ index: UInt32) throws(VhostUserError) -> Int {
        guard Int(index) < vrings.count else { throw .invalidQueue("index \(index) of \(vrings.count)") }
        return Int(index)
    }

    // MARK: memory

    private func setMemoryTable(_ message: VhostUserMessage, fds: ReceivedDescriptors) throws(VhostUserError) {
        let count: Int
        var descriptions: [VhostUserMemoryRegionDescription] = []
        do {
            let parsed: (Int, [VhostUserMemoryRegionDescription])? = message.payload.withUnsafeBytes { bytes in
                var reader = ByteReader(bytes)
                guard let header = reader.read(VhostUserMemoryTableHeader.self),
                      Int(header.regionCount) <= VhostUserMemoryTableHeader.maxRegions else { return nil }
                var list: [VhostUserMemoryRegionDescription] = []
                for _ in 0..<Int(header.regionCount) {
                    guard let region = reader.read(VhostUserMemoryRegionDescription.self) else { return nil }
                    list.append(region)
                }
                return (Int(header.regionCount), list)
            }
            guard let parsed else { throw VhostUserError.invalidMessage("malformed memory table") }
            (count, descriptions) = parsed
        }
        guard fds.count == count else { throw .invalidMessage("\(count) regions but \(fds.count) descriptors") }
        var regions: [MemoryRegion] = []
        for (index, description) in descriptions.enumerated() {
            // The mapping keeps the memory: the descriptor is closed once mapped (as libvhost-user does).
            let fd = fds.take(index)
            regions.append(try MemoryRegion(fd: fd, guestPhysicalAddress: description.guestPhysicalAddress,
                                            size: description.memorySize, userAddress: description.userAddress,
                                            mmapOffset: description.mmapOffset))
            logger.debug("region gpa 0x\(String(description.guestPhysicalAddress, radix: 16)) size 0x\(String(description.memorySize, radix: 16)) uaddr 0x\(String(description.userAddress, radix: 16)) offset 0x\(String(description.mmapOffset, radix: 16))")
        }
        replaceMemory(with: try GuestMemory(regions: regions))
    }

    private func addMemoryRegion(_ message: VhostUserMessage, fds: ReceivedDescriptors) throws(VhostUserError) {
        let description = try payload(message, VhostUserSingleMemoryRegion.self).region
        guard fds.count == 1 else { throw .invalidMessage("ADD_MEM_REG with \(fds.count) descriptors") }
        let current = memoryMap.snapshot
        guard current.regions.count < configuration.maxMemorySlots else { throw .invalidMemoryRegion("all memory slots in use") }
        let fd = fds.take(0)  // closed once mapped
        let region = try MemoryRegion(fd: fd, guestPhysicalAddress: description.guestPhysicalAddress,
                                      size: description.memorySize, userAddress: description.userAddress,
                                      mmapOffset: description.mmapOffset)
        logger.debug("added region gpa 0x\(String(description.guestPhysicalAddress, radix: 16)) size 0x\(String(description.memorySize, radix: 16))")
        replaceMemory(with: try current.adding(region))
    }

    /// Installs a new memory snapshot. Running queues restart so their ring
    /// pointers are translated through the new table.
    private func replaceMemory(with memory: GuestMemory) {
        restartRunningWorkers { memoryMap.replace(with: memory) }
    }

    private func restartRunningWorkers(_ change: () -> Void = {}) {
        let running = vrings.indices.filter { vrings[$0].worker != nil }
        running.forEach { stopWorker($0) }
        change()
        running.forEach { startWorkerIfReady($0) }
    }

    // MARK: queues

    private func setVringDescriptor(_ request: VhostUserRequest, _ message: VhostUserMessage,
                                    fds: ReceivedDescriptors) throws(VhostUserError) {
        let word = try payload(message, VhostUserU64.self).value
        let i = try queueIndex(UInt32(word & VhostUserVringFileDescriptor.indexMask))
        var fd: OwnedDescriptor? = nil
        if word & VhostUserVringFileDescriptor.noFileDescriptorFlag == 0 {
            guard fds.count == 1 else { throw .invalidMessage("\(request) with \(fds.count) descriptors") }
            fd = fds.take(0)
        }
        // A replaced descriptor is closed as it is dropped, after its worker stopped
        // using it (otherwise its number could be reused by a file a request opens).
        let vring = vrings[i]
        switch request {
        case .setVringKick:
            stopWorker(i)
            // Polling mode (no kick fd) is not supported: the queue then waits for a real kick fd.
            vring.started = fd != nil
            if fd == nil { logger.warning("queue \(i): no kick descriptor; polling is not supported") }
            vring.descriptors.kick = fd
            startWorkerIfReady(i)
        case .setVringCall:
            if let worker = vring.worker { _ = worker.replaceCall(with: fd) } else { vring.descriptors.call = fd }
        default:
            if let worker = vring.worker { _ = worker.replaceErr(with: fd) } else { vring.descriptors.err = fd }
        }
    }

    private func isEnabled(_ i: Int) -> Bool {
        // Without protocol features a ring is enabled as soon as it starts.
        !protocolFeaturesNegotiated || vrings[i].enabled
    }

    private func startWorkerIfReady(_ i: Int) {
        let vring = vrings[i]
        guard vring.worker == nil, vring.started, isEnabled(i), vring.addressesSet, vring.size > 0 else { return }
        let setup = QueueSetup(index: i, size: vring.size, descriptorsAddress: vring.descriptorsAddress,
                               availableAddress: vring.availableAddress, usedAddress: vring.usedAddress,
                               lastAvailableIndex: vring.lastAvailableIndex,
                               eventIndex: ackedFeatures & VirtioFeature.ringEventIndex != 0,
                               indirectDescriptors: ackedFeatures & VirtioFeature.ringIndirectDescriptors != 0)
        do {
            let worker = try QueueWorker(setup: setup, memoryMap: memoryMap, device: device, scheduling: scheduling, logger: logger)
            vring.worker = worker
            worker.start(vring.descriptors.take())
            logger.debug("queue \(i) started: size \(vring.size), base \(vring.lastAvailableIndex)")
        } catch {
            logger.error("queue \(i) cannot start: \(error)")
        }
    }

    private func stopWorker(_ i: Int) {
        let vring = vrings[i]
        guard let worker = vring.worker else { return }
        let stopped = worker.stop()
        vring.lastAvailableIndex = stopped.lastAvailableIndex
        vring.descriptors = stopped.descriptors
        vring.worker = nil
        logger.debug("queue \(i) stopped at \(vring.lastAvailableIndex)")
    }

    private func resetDevice() {
        stopAll()
        device.reset()
        // Dropping the old states closes their descriptors.
        for i in vrings.indices { vrings[i] = VringState() }
        ackedFeatures = 0
        logger.debug("device reset")
    }
}
