/// A buffer in guest memory handed to the device (identity-mapped, so the
/// pointer is also the guest-physical address).
struct DeviceBuffer {
    var base: UnsafeMutableRawPointer
    var count: Int

    init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 0x1000)!
        count = buffer.count
    }
}
