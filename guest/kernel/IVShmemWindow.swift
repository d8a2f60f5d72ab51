// The DAX window on the stock QEMU here: QEMU 7.2 gives vhost-user-fs-pci no
// shared memory capability, so scripts/run-guest --dax shares a /dev/shm file
// between swiftfsd and the guest as an ivshmem-plain device (PCI 1af4:1110),
// whose BAR 2 is that file. The daemon copies file ranges into it on
// FUSE_SETUPMAPPING; the guest reads them with plain loads. It is ordinary
// RAM on the host side, so it is mapped cacheable (not as device memory).

enum IVShmem {
    static let pciVendorID: UInt16 = 0x1af4
    static let pciDeviceID: UInt16 = 0x1110
    /// BAR 0 holds (unused) registers; BAR 2 is the shared memory.
    static let memoryBAR = 2
}

/// A shared memory window found on the PCI bus.
struct SharedMemoryWindow {
    let location: String
    let memory: UnsafeMutableRawBufferPointer
}

/// Every ivshmem window found at boot (filled in before applicationMain runs).
var ivshmemWindows: [SharedMemoryWindow] = []

/// Finds the ivshmem devices and maps their BAR 2.
func discoverIVShmemWindows(in functions: [PCIFunction]) -> [SharedMemoryWindow] {
    var windows: [SharedMemoryWindow] = []
    for function in functions where function.vendorID == IVShmem.pciVendorID && function.deviceID == IVShmem.pciDeviceID {
        let location = function.description
        // Sized before decoding is enabled (sizing turns decoding off meanwhile anyway).
        guard let bar = function.bar(IVShmem.memoryBAR), bar.base != 0, bar.size != 0,
              bar.base <= UInt64(UInt.max) - bar.size, let length = Int(exactly: bar.size) else {
            print("ivshmem \(location): BAR \(IVShmem.memoryBAR) unassigned; ignored")
            continue
        }
        function.enableMemoryAndBusMastering()
        guard paging_identity_map(bar.base, bar.size, 0) == 0,
              let base = UnsafeMutableRawPointer(bitPattern: UInt(bar.base)) else {
            print("ivshmem \(location): cannot map BAR \(IVShmem.memoryBAR) at 0x\(hex(bar.base)); ignored")
            continue
        }
        windows.append(SharedMemoryWindow(location: location,
                                          memory: UnsafeMutableRawBufferPointer(start: base, count: length)))
    }
    return windows
}
