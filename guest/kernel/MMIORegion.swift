/// A window of device registers (identity-mapped MMIO). Every access is a
/// volatile load or store, bounds-checked against the window.
struct MMIORegion {
    let base: UInt
    let length: Int

    func load8(_ offset: Int) -> UInt8 { check(offset, 1); return volatile_load8(base + UInt(offset)) }
    func load16(_ offset: Int) -> UInt16 { check(offset, 2); return volatile_load16(base + UInt(offset)) }
    func load32(_ offset: Int) -> UInt32 { check(offset, 4); return volatile_load32(base + UInt(offset)) }
    /// Two 32-bit halves, low first: virtio only promises 32-bit access to 64-bit fields.
    func load64(_ offset: Int) -> UInt64 { UInt64(load32(offset)) | UInt64(load32(offset + 4)) << 32 }

    func store8(_ offset: Int, _ value: UInt8) { check(offset, 1); volatile_store8(base + UInt(offset), value) }
    func store16(_ offset: Int, _ value: UInt16) { check(offset, 2); volatile_store16(base + UInt(offset), value) }
    func store32(_ offset: Int, _ value: UInt32) { check(offset, 4); volatile_store32(base + UInt(offset), value) }
    func store64(_ offset: Int, _ value: UInt64) {
        store32(offset, UInt32(truncatingIfNeeded: value))
        store32(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    private func check(_ offset: Int, _ width: Int) {
        precondition(offset >= 0 && offset + width <= length, "MMIO access outside the register window")
    }
}
