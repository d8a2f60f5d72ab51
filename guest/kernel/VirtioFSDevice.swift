// A virtio-fs device (virtio 1.x, 5.11) on the modern PCI transport: queue 0
// is the high-priority queue (FORGET), queues 1...n carry FUSE requests.
// `call` is synchronous: it polls until its chain comes back. `post` submits a
// request whose reply nobody waits for (FUSE RELEASE, as Linux sends it in the
// background): it stays in flight while later calls run, and is reaped by them
// or by `drain`.

/// All virtio-fs devices found at boot (filled in before applicationMain runs).
var virtioFSDevices: [VirtioFSDevice] = []

final class VirtioFSDevice {
    let tag: String
    let requestQueueCount: Int
    /// How long `call` waits for the device before declaring it broken.
    var requestTimeoutNanoseconds: UInt64 = 30_000_000_000
    /// The PCI function, for messages.
    let location: String

    private let transport: VirtioPCITransport
    private let highPriorityQueue: SplitVirtqueueDriver
    private let requestQueues: [SplitVirtqueueDriver]
    private let cacheRegion: VirtioSharedMemoryRegion?
    /// Set once the device misbehaved (timeout, bad used id); later calls fail fast.
    private(set) var isBroken = false
    /// Heads of posted chains on the first request queue that have not come back yet.
    private var postedHeads: [UInt16] = []
    /// Requests posted and not yet reaped.
    var postedCount: Int { postedHeads.count }
    /// The chain being built by `submit`.
    private var chain: [VirtqueueBuffer] = []
    /// Submit and wait times of `call`s, for benchmark reports.
    private(set) var roundTrips = RoundTripStatistics()
    func resetRoundTrips() { roundTrips.reset() }

    /// Queue size we ask for; QEMU's vhost-user-fs-pci offers 128 by default
    /// and up to 1024 with `queue-size=1024` (scripts/run-guest sets that).
    static let preferredQueueSize = 1024
    /// Features we accept when offered. We need VERSION_1 only; EVENT_IDX and
    /// INDIRECT_DESC stay off (plain chains, polling).
    static let acceptedFeatures = VirtioFeature.version1

    /// Brings the device up: reset, feature negotiation, config, queues, DRIVER_OK.
    init?(function: PCIFunction) {
        location = function.description
        guard let transport = VirtioPCITransport(function: function) else { return nil }
        self.transport = transport

        guard transport.reset() else {
            print("virtio-fs \(location): reset did not complete")
            return nil
        }
        transport.status = VirtioDeviceStatus.acknowledge
        transport.status |= VirtioDeviceStatus.driver
        let offered = transport.deviceFeatures
        guard offered & VirtioFeature.version1 != 0 else {
            print("virtio-fs \(location): device lacks VIRTIO_F_VERSION_1 (features 0x\(hex(offered)))")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        transport.setDriverFeatures(offered & VirtioFSDevice.acceptedFeatures)
        transport.status |= VirtioDeviceStatus.featuresOK
        guard transport.status & VirtioDeviceStatus.featuresOK != 0 else {
            print("virtio-fs \(location): device refused our features")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }

        let configuration = VirtioFSDevice.readConfiguration(transport)
        tag = configuration.tagString
        let queuesOffered = transport.queueCount - 1
        let requestQueuesWanted = min(Int(configuration.numRequestQueues), queuesOffered)
        guard requestQueuesWanted >= 1 else {
            print("virtio-fs \(location): no request queues (config says \(configuration.numRequestQueues), device has \(transport.queueCount) queues)")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }

        guard let highPriority = transport.setUpQueue(index: UInt16(VirtioFS.highPriorityQueue),
                                                      preferredSize: VirtioFSDevice.preferredQueueSize) else {
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        highPriorityQueue = highPriority
        var queues: [SplitVirtqueueDriver] = []
        for number in 0..<requestQueuesWanted {
            guard let queue = transport.setUpQueue(index: UInt16(VirtioFS.firstRequestQueue + number),
                                                   preferredSize: VirtioFSDevice.preferredQueueSize) else {
                transport.status |= VirtioDeviceStatus.failed
                return nil
            }
            queues.append(queue)
        }
        requestQueues = queues
        requestQueueCount = queues.count

        var cache: VirtioSharedMemoryRegion? = nil
        for region in transport.sharedMemoryRegions where region.id == VirtioFS.cacheWindowID && region.length > 0 {
            cache = region
        }
        cacheRegion = cache

        transport.status |= VirtioDeviceStatus.driverOK
        if transport.status & VirtioDeviceStatus.needsReset != 0 {
            print("virtio-fs \(location): device needs reset right after DRIVER_OK")
            return nil
        }
    }

    /// Reads struct virtio_fs_config, retrying until the generation is stable.
    private static func readConfiguration(_ transport: VirtioPCITransport) -> VirtioFSConfig {
        let region = transport.deviceConfiguration
        var configuration = VirtioFSConfig()
        var generation: UInt8
        repeat {
            generation = transport.configurationGeneration
            withUnsafeMutableBytes(of: &configuration) { bytes in
                let length = min(bytes.count, region.length)
                for offset in 0..<length { bytes[offset] = region.load8(offset) }
            }
        } while generation != transport.configurationGeneration
        return configuration
    }

    /// Queue size of the request queues (the longest chain `call` accepts).
    var queueSize: Int { requestQueues[0].size }

    /// Sends one FUSE request on a request queue and polls until the device returns it.
    /// `readable` are device-readable (in header + args + data), `writable` device-writable (out header + reply).
    /// Returns the number of bytes the device wrote, or nil if the device is broken.
    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? {
        let start = monotonicNanoseconds()
        guard let head = submit(requestQueues[0], readable: readable, writable: writable) else { return nil }
        let submitted = monotonicNanoseconds()
        guard let element = wait(requestQueues[0], for: head) else { return nil }
        roundTrips.record(submit: submitted &- start, wait: monotonicNanoseconds() &- submitted,
                          kick: requestQueues[0].lastSubmitNotified ? requestQueues[0].lastKickNanoseconds : nil)
        var capacity = 0
        for buffer in writable { capacity += buffer.count }
        guard Int(element.length) <= capacity else {
            print("virtio-fs \(location): device claims \(element.length) bytes written into \(capacity); device marked broken")
            isBroken = true
            return nil
        }
        return Int(element.length)
    }

    /// Same on the high-priority queue (FORGET): no reply is expected.
    func callHighPriority(readable: [DeviceBuffer]) {
        if let head = submit(highPriorityQueue, readable: readable, writable: []) {
            _ = wait(highPriorityQueue, for: head)
        }
    }

    /// Submits a request on the first request queue without waiting for it. The buffers must
    /// stay valid until `drain` (or until `postedCount` drops). Returns false if the device is broken.
    func post(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Bool {
        guard let head = submit(requestQueues[0], readable: readable, writable: writable) else { return false }
        postedHeads.append(head)
        return true
    }

    /// Waits until every posted request has come back.
    func drain() {
        let queue = requestQueues[0]
        let deadline = monotonicNanoseconds() &+ requestTimeoutNanoseconds
        while !postedHeads.isEmpty && !isBroken {
            switch queue.poll() {
            case .completed(let element):
                guard reapPosted(element) else { return markBroken("queue \(queue.index) returned chain \(element.id), not one in flight") }
            case .invalid(let id):
                return markBroken("queue \(queue.index) returned unknown chain id \(id)")
            case .none:
                if monotonicNanoseconds() > deadline { return markBroken("posted requests on queue \(queue.index) not answered") }
                cpu_pause()
            }
        }
    }

    /// Removes a completed posted chain; false if `element` is not one.
    private func reapPosted(_ element: VirtqUsedElement) -> Bool {
        guard let position = postedHeads.firstIndex(where: { UInt32($0) == element.id }) else { return false }
        postedHeads.remove(at: position)
        return true
    }

    private func markBroken(_ message: String) {
        print("virtio-fs \(location): \(message); device marked broken")
        isBroken = true
    }

    /// The DAX cache window: the device's own shared memory region (virtio shared memory
    /// capability, id 0) if it has one, else a window attached at boot (ivshmem); nil if neither.
    var cacheWindow: UnsafeMutableRawBufferPointer? {
        guard let region = cacheRegion else { return attachedWindow?.memory }
        guard let base = UnsafeMutableRawPointer(bitPattern: UInt(region.base)) else { return nil }
        return UnsafeMutableRawBufferPointer(start: base, count: Int(region.length))
    }

    /// Where `cacheWindow` comes from, for messages.
    var cacheWindowSource: String {
        if cacheRegion != nil { return "virtio shared memory" }
        if let window = attachedWindow { return "ivshmem \(window.location) BAR \(IVShmem.memoryBAR)" }
        return "none"
    }

    /// A window shared with this device's daemon outside the device (see IVShmemWindow.swift).
    private var attachedWindow: SharedMemoryWindow? = nil

    /// Offers `window` as the DAX window when the device has none of its own.
    func attach(_ window: SharedMemoryWindow) {
        if cacheRegion == nil { attachedWindow = window }
    }

    /// Puts a chain on `queue`; nil if the device is broken or the chain cannot be queued.
    private func submit(_ queue: SplitVirtqueueDriver, readable: [DeviceBuffer], writable: [DeviceBuffer]) -> UInt16? {
        guard !isBroken else { return nil }
        // Reused: no allocation on the request path (it is part of every round trip).
        chain.removeAll(keepingCapacity: true)
        for buffer in readable where buffer.count > 0 {
            guard let entry = VirtioFSDevice.entry(buffer, deviceWritable: false) else { return nil }
            chain.append(entry)
        }
        for buffer in writable where buffer.count > 0 {
            guard let entry = VirtioFSDevice.entry(buffer, deviceWritable: true) else { return nil }
            chain.append(entry)
        }
        guard chain.count <= queue.size else {
            print("virtio-fs \(location): request of \(chain.count) buffers exceeds queue size \(queue.size)")
            return nil
        }
        // Posted requests hold descriptors until they come back.
        if chain.count > queue.freeCount && !postedHeads.isEmpty && queue === requestQueues[0] { drain() }
        guard !isBroken, let head = queue.submit(chain) else {
            print("virtio-fs \(location): queue \(queue.index) has no free descriptors")
            return nil
        }
        return head
    }

    /// Polls until chain `head` comes back; posted chains that complete meanwhile are reaped.
    private func wait(_ queue: SplitVirtqueueDriver, for head: UInt16) -> VirtqUsedElement? {
        let deadline = monotonicNanoseconds() &+ requestTimeoutNanoseconds
        while true {
            switch queue.poll() {
            case .completed(let element):
                if element.id == UInt32(head) { return element }
                if queue === requestQueues[0] && reapPosted(element) { continue }
                markBroken("queue \(queue.index) returned chain \(element.id), expected \(head)")
                return nil
            case .invalid(let id):
                markBroken("queue \(queue.index) returned unknown chain id \(id)")
                return nil
            case .none:
                if monotonicNanoseconds() > deadline {
                    markBroken("no answer on queue \(queue.index) after \(requestTimeoutNanoseconds / 1_000_000) ms")
                    return nil
                }
                cpu_pause()
            }
        }
    }

    private static func entry(_ buffer: DeviceBuffer, deviceWritable: Bool) -> VirtqueueBuffer? {
        guard buffer.count >= 0, buffer.count <= Int(UInt32.max) else { return nil }
        return VirtqueueBuffer(address: UInt64(UInt(bitPattern: buffer.base)), length: UInt32(buffer.count),
                               deviceWritable: deviceWritable)
    }
}

/// Finds and initialises every virtio-fs device (PCI 1af4:105a).
func discoverVirtioFSDevices(in functions: [PCIFunction]) -> [VirtioFSDevice] {
    var devices: [VirtioFSDevice] = []
    for function in functions where function.vendorID == VirtioFS.pciVendorID && function.deviceID == VirtioFS.pciDeviceID {
        if let device = VirtioFSDevice(function: function) { devices.append(device) }
    }
    return devices
}
