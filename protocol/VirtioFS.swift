// The virtio-fs device (virtio 1.x, section 5.11): its id, configuration
// layout, queue numbering and the PCI shared-memory window id for DAX.

public enum VirtioFS {
    /// Virtio device id, and the PCI device id of the modern transport (0x1040 + 26).
    public static let deviceID: UInt16 = 26
    public static let pciVendorID: UInt16 = 0x1af4
    public static let pciDeviceID: UInt16 = 0x105a
    /// Queue 0 carries FORGET and INTERRUPT; queues 1...n carry requests.
    public static let highPriorityQueue = 0
    public static let firstRequestQueue = 1
    /// Length of the NUL-padded tag in the config space.
    public static let tagLength = 36
    /// virtio_pci_cap.cfg_type of a shared memory region, and the id of the DAX cache window.
    public static let pciSharedMemoryCapType: UInt8 = 8
    public static let cacheWindowID: UInt8 = 0
}

/// struct virtio_fs_config
public struct VirtioFSConfig: WireRecord {
    public var tag: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    public var numRequestQueues: UInt32 = 0
    @inlinable public init() {}

    /// Builds a config with `tag` (truncated to 36 bytes) and the number of request queues.
    public init(tag: String, numRequestQueues: UInt32) {
        self.numRequestQueues = numRequestQueues
        withUnsafeMutableBytes(of: &self.tag) { raw in
            var i = 0
            for byte in tag.utf8 where i < VirtioFS.tagLength { raw[i] = byte; i += 1 }
        }
    }

    /// The tag up to its first NUL.
    public var tagString: String {
        var copy = tag
        return withUnsafeBytes(of: &copy) { raw in
            var end = 0
            while end < VirtioFS.tagLength && raw[end] != 0 { end += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self)
        }
    }
}
