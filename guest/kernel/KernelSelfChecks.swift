// Kernel self-checks, run as the application when the command line starts
// with their name (scripts/run-guest -- kernel.smoke):
//   kernel.smoke     FUSE_INIT round trip on the first virtio-fs device
//   kernel.trap      a deliberate Swift trap (array index out of range), to
//                    check that traps fail the run and name the function
//   kernel.oom       allocation beyond the heap: must fail the run visibly
//   kernel.null      load from page 0: must page-fault (page 0 is unmapped)
//   kernel.stack     unbounded recursion: must hit the stack guard page
//   kernel.doublefree  a small block freed twice: the heap must panic
//   kernel.heap      allocator stress: many sizes, alignments, frees, reuse
//   kernel.clock     prints TSC time against a PIT-timed busy wait
//   kernel.pci       lists PCI functions, their memory BARs and capabilities; capability bounds checks
//   kernel.memory    memcpy/memset throughput (they dominate data copies under TCG)

func runKernelSelfCheck(named name: String) -> Int32 {
    switch name {
    case "kernel.smoke": return runFuseInitSelfCheck() ? 0 : 1
    case "kernel.trap":
        print("trap: indexing past the end of an array on purpose")
        let value = deliberateTrapSelfCheck([1, 2, 3])
        print("trap: survived with \(value) (this must not happen)")
        return 1
    case "kernel.oom":
        print("oom: asking for more memory than the heap has")
        let huge = [UInt8](repeating: 1, count: Int(heap_total_bytes()) + 1)
        print("oom: survived with \(huge.count) bytes (this must not happen)")
        return 1
    case "kernel.null":
        print("null: reading through a null pointer")
        let pointer = UnsafePointer<UInt64>(bitPattern: UInt(cpu_rdtsc() & 0) + 8)!
        print("null: read \(pointer.pointee) (this must not happen)")
        return 1
    case "kernel.stack":
        print("stack: recursing without end")
        return Int32(truncatingIfNeeded: recurseForever(1))
    case "kernel.doublefree":
        print("doublefree: freeing a small block twice")
        let block = UnsafeMutableRawPointer.allocate(byteCount: 48, alignment: 16)
        block.deallocate()
        block.deallocate()
        print("doublefree: survived (this must not happen)")
        return 1
    case "kernel.heap": return runHeapSelfCheck() ? 0 : 1
    case "kernel.clock": return runClockSelfCheck() ? 0 : 1
    case "kernel.pci":
        listPCIFunctions()
        return checkCapabilityBounds() ? 0 : 1
    case "kernel.memory":
        guard checkMemoryFunctions() else { return 1 }
        measureMemoryThroughput()
        return 0
    default:
        print("unknown kernel self-check '\(name)' (known: kernel.smoke, kernel.trap, kernel.oom, kernel.null, kernel.stack, kernel.doublefree, kernel.heap, kernel.clock, kernel.pci, kernel.memory)")
        return 2
    }
}

@inline(never)
func recurseForever(_ depth: Int) -> Int {
    // A frame that is written through a volatile store after the call keeps
    // the recursion from being turned into a loop.
    var frame = (depth, depth, depth, depth)
    let below = cpu_rdtsc() != 0 ? recurseForever(depth &+ 1) : 0   // always true; hides the recursion from the compiler's warning
    return withUnsafeMutablePointer(to: &frame) { pointer in
        volatile_store64(UInt(bitPattern: pointer), UInt64(truncatingIfNeeded: below))
        return pointer.pointee.1
    }
}

@inline(never)
func deliberateTrapSelfCheck(_ values: [Int]) -> Int {
    let index = values.count + Int(truncatingIfNeeded: cpu_rdtsc() & 0)
    return values[index]
}

/// Allocates and frees mixed sizes and alignments, checks contents survive
/// and that freed memory is reused (the free bytes return to where they were).
private func runHeapSelfCheck() -> Bool {
    let stressStart = monotonicNanoseconds()
    let before = heap_free_bytes()
    var blocks: [(pointer: UnsafeMutableRawPointer, size: Int, fill: UInt8)] = []
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    for round in 0..<3 {
        for i in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let size = i % 7 == 0 ? Int(seed >> 44) + 1 : Int(seed >> 56) + 1   // up to 1 MiB, or up to 256 B
            let alignment = 1 << Int((seed >> 20) % 13)                      // 1 ... 4096
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: max(alignment, 1))
            guard UInt(bitPattern: pointer) % UInt(alignment) == 0 else {
                print("heap: misaligned block for alignment \(alignment)")
                return false
            }
            let fill = UInt8(truncatingIfNeeded: i &+ round)
            pointer.initializeMemory(as: UInt8.self, repeating: fill, count: size)
            blocks.append((pointer, size, fill))
            if i % 3 == 0, let victim = blocks.popLast() {   // free some as we go
                victim.pointer.deallocate()
            }
        }
        for block in blocks {
            let bytes = UnsafeRawBufferPointer(start: block.pointer, count: block.size)
            guard bytes[0] == block.fill, bytes[block.size - 1] == block.fill else {
                print("heap: a block was overwritten")
                return false
            }
            block.pointer.deallocate()
        }
        blocks.removeAll(keepingCapacity: true)
    }
    blocks = []
    // Small-block slabs stay with their size class, so allow their footprint.
    let after = heap_free_bytes()
    print("heap: stress took \((monotonicNanoseconds() - stressStart) / 1_000_000) ms")
    print("heap: free before \(before >> 10) KiB, after \(after >> 10) KiB, total \(heap_total_bytes() >> 10) KiB")
    guard after + 4 * 1024 * 1024 >= before else {
        print("heap: memory was not returned")
        return false
    }
    // Exhaustion must be reported, not crash: ask for more than the heap holds.
    var huge: UnsafeMutableRawPointer? = nil
    let status = posix_memalign(&huge, 16, Int(heap_total_bytes()) + 4096)
    guard status == 12, huge == nil else {
        print("heap: oversized request returned \(status) instead of ENOMEM")
        return false
    }
    // Sizes and alignments so large that rounding them would wrap around to a tiny block.
    for (alignment, size) in [(16, Int(bitPattern: UInt(UInt64.max - 8))), (16, Int.max - 4), (1 << 62, 16)] {
        var wrapped: UnsafeMutableRawPointer? = nil
        let wrappedStatus = posix_memalign(&wrapped, alignment, size)
        guard wrappedStatus == 12, wrapped == nil else {
            print("heap: request of \(size) bytes aligned to \(alignment) returned \(wrappedStatus) instead of ENOMEM")
            return false
        }
    }
    guard touchAllOfTheHeap() else { return false }
    print("heap: ok")
    return true
}

/// Takes the whole heap in 64 MiB blocks (so RAM above 4 GiB, mapped at boot,
/// is used too), writes every 2 MiB page, checks, and gives it all back.
private func touchAllOfTheHeap() -> Bool {
    let blockSize = 64 << 20
    var blocks: [UnsafeMutableRawPointer] = []
    blocks.reserveCapacity(Int(heap_total_bytes()) / blockSize + 1)   // before measuring
    let freeBefore = heap_free_bytes()
    let start = monotonicNanoseconds()
    var highest: UInt = 0
    while true {
        var block: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&block, 4096, blockSize) == 0, let taken = block else { break }
        for offset in stride(from: 0, to: blockSize, by: 2 << 20) {
            taken.storeBytes(of: UInt64(UInt(bitPattern: taken) + UInt(offset)), toByteOffset: offset, as: UInt64.self)
        }
        highest = max(highest, UInt(bitPattern: taken) + UInt(blockSize))
        blocks.append(taken)
    }
    for block in blocks {
        for offset in stride(from: 0, to: blockSize, by: 2 << 20) {
            guard block.load(fromByteOffset: offset, as: UInt64.self) == UInt64(UInt(bitPattern: block) + UInt(offset)) else {
                print("heap: RAM at 0x\(hex(UInt64(UInt(bitPattern: block) + UInt(offset)))) did not keep its value")
                return false
            }
        }
        block.deallocate()
    }
    let allReturned = heap_free_bytes() == freeBefore
    print("heap: filled \(blocks.count) x 64 MiB up to 0x\(hex(UInt64(highest))) in \((monotonicNanoseconds() - start) / 1_000_000) ms, all returned: \(allReturned)")
    return allReturned && !blocks.isEmpty
}

/// Busy-waits one second by PIT-calibrated TSC time; the host can compare the wall time.
private func runClockSelfCheck() -> Bool {
    let start = monotonicNanoseconds()
    var previous = start
    while true {
        let now = monotonicNanoseconds()
        guard now >= previous else {
            print("clock: went backwards")
            return false
        }
        previous = now
        if now - start >= 1_000_000_000 { break }
    }
    print("clock: 1 s busy wait done (TSC \(timestampCounterFrequency) Hz); realtime \(realtimeNanoseconds() / 1_000_000_000) s since 1970")
    return true
}

private func listPCIFunctions() {
    for function in enumeratePCIFunctions() {
        print("pci \(function.description) \(hex(UInt64(function.vendorID), width: 4)):\(hex(UInt64(function.deviceID), width: 4)) class \(hex(UInt64(function.classCode), width: 2)).\(hex(UInt64(function.subclass), width: 2))")
        guard function.headerType & 0x7F == 0 else { continue }
        var index = 0
        while index < 6 {
            let raw = function.read32(UInt8(0x10 + 4 * index))
            if let bar = function.bar(index), bar.size != 0 {
                print("  BAR\(index): 0x\(hex(bar.base)) size 0x\(hex(bar.size))\(bar.is64Bit ? " 64-bit" : "")")
            }
            index += raw & 1 == 0 && (raw >> 1) & 3 == 2 ? 2 : 1
        }
        for (id, offset) in function.capabilities() {
            print("  capability 0x\(hex(UInt64(id), width: 2)) at 0x\(hex(UInt64(offset), width: 2))")
        }
    }
}

private func measureMemoryThroughput() {
    let size = 16 << 20
    let source = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    let destination = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    defer { source.deallocate(); destination.deallocate() }
    func rate(_ bytes: Int, _ nanoseconds: UInt64) -> String { "\(UInt64(bytes) * 1000 / max(nanoseconds, 1)) MB/s" }
    for chunk in [64, 4096, 131_072, size / 2] {
        var start = monotonicNanoseconds()
        for offset in stride(from: 0, to: size, by: chunk) { memset(destination + offset, 0x5A, chunk) }
        let setTime = monotonicNanoseconds() - start
        start = monotonicNanoseconds()
        for offset in stride(from: 0, to: size, by: chunk) { memcpy(destination + offset, source + offset, chunk) }
        let copyTime = monotonicNanoseconds() - start
        start = monotonicNanoseconds()
        for offset in stride(from: 0, to: size - chunk, by: chunk) { memmove(destination + offset + 1, destination + offset, chunk) }
        let moveTime = monotonicNanoseconds() - start
        print("memory: \(chunk)-byte pieces: memset \(rate(size, setTime)), memcpy \(rate(size, copyTime)), overlapping memmove \(rate(size - chunk, moveTime))")
    }
}

/// memset/memcpy/memmove against a byte-by-byte model, all small lengths,
/// alignments and overlaps.
private func checkMemoryFunctions() -> Bool {
    let size = 256
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer { buffer.deallocate() }
    var model = [UInt8](repeating: 0, count: size)
    func reset() {
        for i in 0..<size { model[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3); buffer[i] = model[i] }
    }
    func same() -> Bool {
        for i in 0..<size where buffer[i] != model[i] { return false }
        return true
    }
    let base = buffer.baseAddress!
    for length in 0..<80 {
        for from in 0..<12 {
            for to in 0..<12 {
                reset()
                memmove(base + 64 + to, base + 64 + from, length)
                let copy = Array(model[(64 + from)..<(64 + from + length)])
                for i in 0..<length { model[64 + to + i] = copy[i] }
                guard same() else { print("memory: memmove(\(to), \(from), \(length)) wrong"); return false }
                reset()
                memcpy(base + to, base + 128 + from, length)
                for i in 0..<length { model[to + i] = model[128 + from + i] }
                guard same() else { print("memory: memcpy(\(to), \(from), \(length)) wrong"); return false }
            }
            reset()
            memset(base + from, Int32(from), length)
            for i in 0..<length { model[from + i] = UInt8(from) }
            guard same() else { print("memory: memset(\(from), \(length)) wrong"); return false }
        }
    }
    print("memory: memset/memcpy/memmove match the byte model")
    return true
}

/// Capability values a faulty device could present: they must be rejected, not overflow.
func checkCapabilityBounds() -> Bool {
    let cases: [(Bool, Bool)] = [
        (VirtioPCITransport.windowFits(offset: 0x1000, length: 0x1000, in: 0x4000), true),
        (VirtioPCITransport.windowFits(offset: 0, length: 0x4000, in: 0x4000), true),
        (VirtioPCITransport.windowFits(offset: 0x3000, length: 0x1001, in: 0x4000), false),
        (VirtioPCITransport.windowFits(offset: UInt64.max, length: 2, in: 0x4000), false),   // wrapped before
        (VirtioPCITransport.windowFits(offset: 2, length: UInt64.max, in: 0x4000), false),
        (VirtioPCITransport.capabilityFits(at: 0x40, type: VirtioPCICapability.sharedMemory), true),
        (VirtioPCITransport.capabilityFits(at: 0xF0, type: VirtioPCICapability.commonConfiguration), true),
        (VirtioPCITransport.capabilityFits(at: 0xF0, type: VirtioPCICapability.notification), false),
        (VirtioPCITransport.capabilityFits(at: 0xFC, type: VirtioPCICapability.deviceConfiguration), false),
    ]
    for (index, (result, expected)) in cases.enumerated() where result != expected {
        print("pci: capability bounds case \(index) gave \(result)")
        return false
    }
    print("pci: capability bounds ok")
    return true
}
