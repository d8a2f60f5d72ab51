// A virtio-9p device (virtio 1.x device id 9; QEMU's virtio-9p-pci) on the modern
// PCI transport: one request queue, each 9P request a chain of device-readable
// buffers (the T-message) then device-writable ones (room for the R-message).
// `call` is synchronous: it polls until its chain comes back.

/// All virtio-9p devices found at boot (filled in before applicationMain runs).
var virtioNinePDevices: [VirtioNinePDevice] = []

final class VirtioNinePDevice {
    /// The mount tag from the config space (mount_tag= on the QEMU command line).
    let tag: String
    /// How long `call` waits for the device before declaring it broken.
    var requestTimeoutNanoseconds: UInt64 = 30_000_000_000
    /// The PCI function, for messages.
    let location: String

    private let transport: VirtioPCITransport
    private let queue: SplitVirtqueueDriver
    /// Set once the device misbehaved (timeout, bad used id, overlong reply); later calls fail fast.
    private(set) var isBroken = false

    /// QEMU's virtio-9p queue has 128 entries (MAX_REQ); we need at most four per request.
    static let preferredQueueSize = 128
    /// Longer tags are refused as malformed config (QEMU's mount_tag limit is far below).
    static let maxTagLength = 255

    /// Brings the device up: reset, feature negotiation (VERSION_1 and MOUNT_TAG), queue, DRIVER_OK.
    init?(function: PCIFunction) {
        location = function.description
        guard let transport = VirtioPCITransport(function: function) else { return nil }
        self.transport = transport
        guard transport.reset() else {
            print("virtio-9p \(location): reset did not complete")
            return nil
        }
        transport.status = VirtioDeviceStatus.acknowledge
        transport.status |= VirtioDeviceStatus.driver
        let offered = transport.deviceFeatures
        guard offered & VirtioFeature.version1 != 0, offered & NineP.mountTagFeature != 0 else {
            print("virtio-9p \(location): device lacks VERSION_1 or MOUNT_TAG (features 0x\(hex(offered)))")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        transport.setDriverFeatures(VirtioFeature.version1 | NineP.mountTagFeature)
        transport.status |= VirtioDeviceStatus.featuresOK
        guard transport.status & VirtioDeviceStatus.featuresOK != 0 else {
            print("virtio-9p \(location): device refused our features")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        guard let tag = VirtioNinePDevice.readTag(transport) else {
            print("virtio-9p \(location): mount tag longer than its config space")
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        self.tag = tag
        guard let queue = transport.setUpQueue(index: UInt16(NineP.requestQueue),
                                               preferredSize: VirtioNinePDevice.preferredQueueSize) else {
            transport.status |= VirtioDeviceStatus.failed
            return nil
        }
        self.queue = queue
        transport.status |= VirtioDeviceStatus.driverOK
        if transport.status & VirtioDeviceStatus.needsReset != 0 {
            print("virtio-9p \(location): device needs reset right after DRIVER_OK")
            return nil
        }
    }

    /// struct virtio_9p_config: tag_len[2] tag[tag_len], read until the generation is stable.
    /// Nil when tag_len runs past the config window (device input, checked).
    private static func readTag(_ transport: VirtioPCITransport) -> String? {
        let region = transport.deviceConfiguration
        var bytes: [UInt8] = []
        var generation: UInt8
        repeat {
            generation = transport.configurationGeneration
            bytes.removeAll(keepingCapacity: true)
            guard region.length >= 2 else { return nil }
            let length = Int(region.load8(0)) | Int(region.load8(1)) << 8
            guard length <= maxTagLength, 2 + length <= region.length else { return nil }
            for offset in 0..<length { bytes.append(region.load8(2 + offset)) }
        } while generation != transport.configurationGeneration
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Queue size (the longest chain `call` accepts).
    var queueSize: Int { queue.size }

    /// Sends one 9P request and polls until the device returns it. `readable` hold the
    /// T-message, `writable` the room for the R-message. Returns the number of bytes the
    /// device wrote, or nil if the device is broken.
    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? {
        guard !isBroken else { return nil }
        var chain: [VirtqueueBuffer] = []
        chain.reserveCapacity(readable.count + writable.count)
        var capacity = 0
        for buffer in readable where buffer.count > 0 {
            chain.append(VirtqueueBuffer(address: UInt64(UInt(bitPattern: buffer.base)), length: UInt32(buffer.count),
                                         deviceWritable: false))
        }
        for buffer in writable where buffer.count > 0 {
            chain.append(VirtqueueBuffer(address: UInt64(UInt(bitPattern: buffer.base)), length: UInt32(buffer.count),
                                         deviceWritable: true))
            capacity += buffer.count
        }
        guard let head = queue.submit(chain) else {
            print("virtio-9p \(location): queue has no room for \(chain.count) buffers")
            return nil
        }
        let deadline = monotonicNanoseconds() &+ requestTimeoutNanoseconds
        while true {
            switch queue.poll() {
            case .completed(let element):
                guard element.id == UInt32(head) else {
                    return markBroken("returned chain \(element.id), expected \(head)")
                }
                guard Int(element.length) <= capacity else {
                    return markBroken("claims \(element.length) bytes written into \(capacity)")
                }
                return Int(element.length)
            case .invalid(let id):
                return markBroken("returned unknown chain id \(id)")
            case .none:
                if monotonicNanoseconds() > deadline {
                    return markBroken("no answer after \(requestTimeoutNanoseconds / 1_000_000) ms")
                }
                cpu_pause()
            }
        }
    }

    private func markBroken(_ message: String) -> Int? {
        print("virtio-9p \(location): \(message); device marked broken")
        isBroken = true
        return nil
    }
}

/// Finds and initialises every virtio-9p device (PCI 1af4:1009 transitional, 1af4:1049 modern).
func discoverVirtioNinePDevices(in functions: [PCIFunction]) -> [VirtioNinePDevice] {
    var devices: [VirtioNinePDevice] = []
    for function in functions where function.vendorID == NineP.pciVendorID
        && (function.deviceID == NineP.pciTransitionalDeviceID || function.deviceID == NineP.pciModernDeviceID) {
        if let device = VirtioNinePDevice(function: function) { devices.append(device) }
    }
    return devices
}
