// PCI configuration space through the legacy 0xCF8/0xCFC ports (mechanism #1).

/// One function on the PCI bus.
struct PCIFunction {
    let bus: UInt8
    let device: UInt8
    let function: UInt8

    private func select(_ offset: UInt8) {
        let address = UInt32(0x8000_0000) | UInt32(bus) << 16 | UInt32(device) << 11
            | UInt32(function) << 8 | UInt32(offset & 0xFC)
        port_out32(0xCF8, address)
    }

    func read32(_ offset: UInt8) -> UInt32 { select(offset); return port_in32(0xCFC) }
    func read16(_ offset: UInt8) -> UInt16 { UInt16(truncatingIfNeeded: read32(offset) >> (UInt32(offset & 2) * 8)) }
    func read8(_ offset: UInt8) -> UInt8 { UInt8(truncatingIfNeeded: read32(offset) >> (UInt32(offset & 3) * 8)) }
    func write32(_ offset: UInt8, _ value: UInt32) { select(offset); port_out32(0xCFC, value) }
    func write16(_ offset: UInt8, _ value: UInt16) {
        select(offset)
        port_out16(0xCFC + UInt16(offset & 2), value)
    }

    var vendorID: UInt16 { read16(0x00) }
    var deviceID: UInt16 { read16(0x02) }
    var classCode: UInt8 { read8(0x0B) }
    var subclass: UInt8 { read8(0x0A) }
    var headerType: UInt8 { read8(0x0E) }
    var exists: Bool { vendorID != 0xFFFF }
    var isBridge: Bool { classCode == 0x06 && subclass == 0x04 && headerType & 0x7F == 1 }
    var secondaryBus: UInt8 { read8(0x19) }

    var description: String {
        "\(hex(UInt64(bus), width: 2)):\(hex(UInt64(device), width: 2)).\(function)"
    }

    /// Lets the function decode memory BARs and master DMA (needed for virtqueues).
    func enableMemoryAndBusMastering() {
        write16(0x04, read16(0x04) | 0x0002 | 0x0004)
    }

    /// The capability list: (capability id, config-space offset).
    func capabilities() -> [(id: UInt8, offset: UInt8)] {
        var result: [(id: UInt8, offset: UInt8)] = []
        guard read16(0x06) & 0x10 != 0 else { return result }   // status: has capability list
        var offset = read8(0x34) & 0xFC
        // A well-formed list is short; the bound stops a looping one.
        while offset >= 0x40 && result.count < 48 {
            result.append((id: read8(offset), offset: offset))
            offset = read8(offset + 1) & 0xFC
        }
        return result
    }

    /// Reads and sizes BAR `index` (0...5) of a type-0 header. Sizing writes
    /// all-ones to the BAR, so memory decoding is off meanwhile.
    func bar(_ index: Int) -> PCIBar? {
        guard index >= 0 && index < 6 else { return nil }
        let offset = UInt8(0x10 + 4 * index)
        let low = read32(offset)
        if low & 1 != 0 { return nil }   // I/O space: virtio modern uses memory BARs
        let is64Bit = (low >> 1) & 3 == 2
        if is64Bit && index == 5 { return nil }

        let command = read16(0x04)
        write16(0x04, command & ~0x0003)
        // The bits that stay zero after writing all-ones give the size.
        write32(offset, 0xFFFF_FFFF)
        var sizeMask = UInt64(read32(offset) & ~0xF)
        write32(offset, low)
        var base = UInt64(low & ~0xF)
        if is64Bit {
            let high = read32(offset + 4)
            write32(offset + 4, 0xFFFF_FFFF)
            sizeMask |= UInt64(read32(offset + 4)) << 32
            write32(offset + 4, high)
            base |= UInt64(high) << 32
        } else if sizeMask != 0 {
            sizeMask |= 0xFFFF_FFFF_0000_0000
        }
        write16(0x04, command)
        let size = sizeMask == 0 ? 0 : (~sizeMask &+ 1)   // 0: BAR not implemented
        return PCIBar(base: base, size: size, is64Bit: is64Bit)
    }
}

/// A memory BAR as assigned by the firmware.
struct PCIBar {
    let base: UInt64
    let size: UInt64
    let is64Bit: Bool
}

/// Every function reachable from bus 0, following PCI-to-PCI bridges.
func enumeratePCIFunctions() -> [PCIFunction] {
    var found: [PCIFunction] = []
    var busesToScan: [UInt8] = [0]
    var scanned: [Bool] = Array(repeating: false, count: 256)
    while let bus = busesToScan.popLast() {
        if scanned[Int(bus)] { continue }
        scanned[Int(bus)] = true
        for device in UInt8(0)..<32 {
            let first = PCIFunction(bus: bus, device: device, function: 0)
            guard first.exists else { continue }
            let functionCount: UInt8 = first.headerType & 0x80 != 0 ? 8 : 1
            for function in UInt8(0)..<functionCount {
                let candidate = PCIFunction(bus: bus, device: device, function: function)
                guard candidate.exists else { continue }
                found.append(candidate)
                if candidate.isBridge { busesToScan.append(candidate.secondaryBus) }
            }
        }
    }
    return found
}
