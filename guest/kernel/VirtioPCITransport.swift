// The virtio 1.x modern PCI transport (virtio spec 4.1): the vendor-specific
// capabilities (id 0x09) locate the common configuration, notification, ISR
// and device-configuration structures inside the BARs.

/// Where one virtio structure lives (struct virtio_pci_cap, plus the 64-bit
/// extension of shared-memory capabilities).
struct VirtioPCICapability {
    static let commonConfiguration: UInt8 = 1
    static let notification: UInt8 = 2
    static let interruptStatus: UInt8 = 3
    static let deviceConfiguration: UInt8 = 4
    static let pciConfigurationAccess: UInt8 = 5
    static let sharedMemory: UInt8 = 8

    let type: UInt8
    let bar: Int
    let id: UInt8
    let offset: UInt64
    let length: UInt64
    /// Only for notification capabilities.
    let notifyOffsetMultiplier: UInt32
}

/// A shared-memory region of the device (e.g. the virtio-fs DAX window).
struct VirtioSharedMemoryRegion {
    let id: UInt8
    let base: UInt64
    let length: UInt64
}

/// Offsets in struct virtio_pci_common_cfg.
private enum CommonConfiguration {
    static let deviceFeatureSelect = 0
    static let deviceFeature = 4
    static let driverFeatureSelect = 8
    static let driverFeature = 12
    static let configMSIXVector = 16
    static let numberOfQueues = 18
    static let deviceStatus = 20
    static let configGeneration = 21
    static let queueSelect = 22
    static let queueSize = 24
    static let queueMSIXVector = 26
    static let queueEnable = 28
    static let queueNotifyOffset = 30
    static let queueDescriptorTable = 32
    static let queueDriverArea = 40
    static let queueDeviceArea = 48
    static let minimumLength = 56
}

final class VirtioPCITransport {
    let function: PCIFunction
    private let common: MMIORegion
    private let notifyBase: UInt
    private let notifyLength: UInt64
    private let notifyMultiplier: UInt32
    /// The device-specific configuration structure.
    let deviceConfiguration: MMIORegion
    let sharedMemoryRegions: [VirtioSharedMemoryRegion]

    /// Finds the virtio structures of `function` and maps the BARs holding
    /// them. Prints why and returns nil when something required is missing.
    init?(function: PCIFunction) {
        self.function = function
        function.enableMemoryAndBusMastering()

        var bars: [PCIBar?] = Array(repeating: nil, count: 6)
        var capabilities: [VirtioPCICapability] = []
        for (id, offset) in function.capabilities() where id == 0x09 {
            let type = function.read8(offset + 3)
            let bar = Int(function.read8(offset + 4))
            // The PCI-config-access capability names no real window; BAR numbers above 5 are reserved.
            guard type != VirtioPCICapability.pciConfigurationAccess, bar < 6 else { continue }
            // The fields read below must lie in the 256-byte config space (UInt8 offsets would overflow).
            guard VirtioPCITransport.capabilityFits(at: offset, type: type) else { continue }
            var capabilityOffset = UInt64(function.read32(offset + 8))
            var length = UInt64(function.read32(offset + 12))
            var multiplier: UInt32 = 0
            if type == VirtioPCICapability.notification { multiplier = function.read32(offset + 16) }
            if type == VirtioPCICapability.sharedMemory {
                capabilityOffset |= UInt64(function.read32(offset + 16)) << 32
                length |= UInt64(function.read32(offset + 20)) << 32
            }
            if bars[bar] == nil { bars[bar] = function.bar(bar) }
            capabilities.append(VirtioPCICapability(
                type: type, bar: bar, id: function.read8(offset + 5), offset: capabilityOffset,
                length: length, notifyOffsetMultiplier: multiplier))
        }

        // Map every BAR the capabilities point into: registers uncached, a BAR that only
        // holds shared memory (the DAX window) as ordinary cacheable memory.
        var holdsRegisters = [Bool](repeating: false, count: 6)
        for capability in capabilities where capability.type != VirtioPCICapability.sharedMemory {
            holdsRegisters[capability.bar] = true
        }
        for (index, entry) in bars.enumerated() {
            guard let bar = entry else { continue }
            guard bar.base != 0, bar.size != 0 else {
                print("virtio \(function.description): a BAR is unassigned (base 0x\(hex(bar.base)), size 0x\(hex(bar.size)))")
                return nil
            }
            guard paging_identity_map(bar.base, bar.size, holdsRegisters[index] ? 1 : 0) == 0 else {
                print("virtio \(function.description): cannot map BAR at 0x\(hex(bar.base))")
                return nil
            }
        }

        func address(of capability: VirtioPCICapability) -> UInt? {
            guard let bar = bars[capability.bar],
                  VirtioPCITransport.windowFits(offset: capability.offset, length: capability.length, in: bar.size) else { return nil }
            return UInt(bar.base + capability.offset)
        }
        func first(_ type: UInt8) -> VirtioPCICapability? {
            for capability in capabilities where capability.type == type { return capability }
            return nil
        }

        guard let commonCapability = first(VirtioPCICapability.commonConfiguration),
              commonCapability.length >= UInt64(CommonConfiguration.minimumLength),
              let commonAddress = address(of: commonCapability),
              let notifyCapability = first(VirtioPCICapability.notification),
              let notifyAddress = address(of: notifyCapability),
              let deviceCapability = first(VirtioPCICapability.deviceConfiguration),
              let deviceAddress = address(of: deviceCapability)
        else {
            print("virtio \(function.description): missing or invalid modern virtio capabilities")
            return nil
        }
        common = MMIORegion(base: commonAddress, length: Int(commonCapability.length))
        notifyBase = notifyAddress
        notifyLength = notifyCapability.length
        notifyMultiplier = notifyCapability.notifyOffsetMultiplier
        deviceConfiguration = MMIORegion(base: deviceAddress, length: Int(deviceCapability.length))

        var regions: [VirtioSharedMemoryRegion] = []
        for capability in capabilities where capability.type == VirtioPCICapability.sharedMemory {
            if let base = address(of: capability) {
                regions.append(VirtioSharedMemoryRegion(id: capability.id, base: UInt64(base), length: capability.length))
            }
        }
        sharedMemoryRegions = regions
    }

    /// Whether a virtio_pci_cap of `type` at config-space `offset` ends inside the 256 bytes
    /// (16 bytes; notification 20, shared memory 24).
    static func capabilityFits(at offset: UInt8, type: UInt8) -> Bool {
        let size = type == VirtioPCICapability.sharedMemory ? 24 : type == VirtioPCICapability.notification ? 20 : 16
        return Int(offset) + size <= 256
    }

    /// Whether [offset, offset + length) lies inside a BAR of `barSize` bytes, without overflow.
    static func windowFits(offset: UInt64, length: UInt64, in barSize: UInt64) -> Bool {
        offset <= barSize && length <= barSize - offset
    }

    var status: UInt8 {
        get { common.load8(CommonConfiguration.deviceStatus) }
        set { common.store8(CommonConfiguration.deviceStatus, newValue) }
    }

    var configurationGeneration: UInt8 { common.load8(CommonConfiguration.configGeneration) }

    var queueCount: Int { Int(common.load16(CommonConfiguration.numberOfQueues)) }

    /// Writes 0 to the status and waits until the device reads back 0.
    func reset() -> Bool {
        status = 0
        let deadline = monotonicNanoseconds() + 1_000_000_000
        while status != 0 {
            if monotonicNanoseconds() > deadline { return false }
            cpu_pause()
        }
        return true
    }

    var deviceFeatures: UInt64 {
        common.store32(CommonConfiguration.deviceFeatureSelect, 0)
        let low = common.load32(CommonConfiguration.deviceFeature)
        common.store32(CommonConfiguration.deviceFeatureSelect, 1)
        let high = common.load32(CommonConfiguration.deviceFeature)
        return UInt64(high) << 32 | UInt64(low)
    }

    func setDriverFeatures(_ features: UInt64) {
        common.store32(CommonConfiguration.driverFeatureSelect, 0)
        common.store32(CommonConfiguration.driverFeature, UInt32(truncatingIfNeeded: features))
        common.store32(CommonConfiguration.driverFeatureSelect, 1)
        common.store32(CommonConfiguration.driverFeature, UInt32(truncatingIfNeeded: features >> 32))
    }

    /// Allocates and enables queue `index` with at most `preferredSize`
    /// entries (the device's maximum is the upper bound).
    func setUpQueue(index: UInt16, preferredSize: Int) -> SplitVirtqueueDriver? {
        common.store16(CommonConfiguration.queueSelect, index)
        let maximum = Int(common.load16(CommonConfiguration.queueSize))
        guard maximum > 0 else {
            print("virtio \(function.description): queue \(index) does not exist")
            return nil
        }
        // Split rings here are power-of-two sized.
        var size = 1
        while size * 2 <= min(maximum, preferredSize) { size *= 2 }

        let notifyOffset = UInt64(common.load16(CommonConfiguration.queueNotifyOffset)) * UInt64(notifyMultiplier)
        guard notifyOffset + 2 <= notifyLength else {
            print("virtio \(function.description): queue \(index) notify offset outside its window")
            return nil
        }
        let queue = SplitVirtqueueDriver(index: index, size: size, notifyAddress: notifyBase + UInt(notifyOffset))

        common.store16(CommonConfiguration.queueSize, UInt16(size))
        common.store16(CommonConfiguration.queueMSIXVector, 0xFFFF)   // no interrupts: we poll
        common.store64(CommonConfiguration.queueDescriptorTable, queue.descriptorTableAddress)
        common.store64(CommonConfiguration.queueDriverArea, queue.availableRingAddress)
        common.store64(CommonConfiguration.queueDeviceArea, queue.usedRingAddress)
        common.store16(CommonConfiguration.queueEnable, 1)
        return queue
    }
}
