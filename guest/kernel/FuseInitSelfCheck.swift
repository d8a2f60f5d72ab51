// Boot self-check of the device path (`kernel.smoke`): FUSE_INIT on the first
// virtio-fs device, then a burst of GETATTRs on the root (ring wrap-around,
// latency) and one FORGET on the high-priority queue. It proves PCI, the
// virtio handshake, the split rings and the daemon without the FS layer.

func runFuseInitSelfCheck() -> Bool {
    guard let device = virtioFSDevices.first else {
        print("smoke: no virtio-fs device found")
        return false
    }
    let exchange = FuseExchange(device: device)
    defer { exchange.release() }

    var arguments = FuseInitIn()
    arguments.major = FuseProtocol.kernelMajor
    arguments.minor = FuseProtocol.kernelMinor
    arguments.maxReadahead = 131_072
    let start = monotonicNanoseconds()
    guard let initOut = exchange.send(.`init`, node: 0, arguments, replyType: FuseInitOut.self) else { return false }
    print("smoke: FUSE_INIT on '\(device.tag)' -> protocol \(initOut.major).\(initOut.minor), max_write \(initOut.maxWrite), flags 0x\(hex(UInt64(initOut.flags))) in \((monotonicNanoseconds() - start) / 1000) us")
    guard initOut.major == 7 else { return false }

    // More requests than the queue has entries, so ring indices wrap.
    let count = device.queueSize + 100
    let burstStart = monotonicNanoseconds()
    for _ in 0..<count {
        guard let attributes = exchange.send(.getattr, node: FuseProtocol.rootNodeID, FuseGetattrIn(),
                                             replyType: FuseAttrOut.self) else { return false }
        guard attributes.attr.ino != 0 else {
            print("smoke: GETATTR of the root returned inode 0")
            return false
        }
    }
    let perCall = (monotonicNanoseconds() - burstStart) / UInt64(count)
    print("smoke: \(count) GETATTR round trips, \(perCall / 1000) us each")

    // FORGET has no reply; nlookup 0 on the root changes nothing in the daemon.
    exchange.sendHighPriority(.forget, node: FuseProtocol.rootNodeID, FuseForgetIn())
    guard exchange.send(.getattr, node: FuseProtocol.rootNodeID, FuseGetattrIn(), replyType: FuseAttrOut.self) != nil else {
        return false
    }
    print("smoke: FORGET on the high-priority queue ok")
    return true
}

/// Request and reply buffers for the self-check's one-at-a-time FUSE messages.
private final class FuseExchange {
    let device: VirtioFSDevice
    let request = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    var unique: UInt64 = 0

    init(device: VirtioFSDevice) { self.device = device }

    func release() {
        request.deallocate()
        reply.deallocate()
    }

    private func encode<Arguments: WireRecord>(_ opcode: FuseOpcode, node: UInt64, _ arguments: Arguments) -> Int {
        unique += 1
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + Arguments.wireSize)
        header.opcode = opcode.rawValue
        header.unique = unique
        header.nodeID = node
        var writer = ByteWriter(request)
        writer.write(header)
        writer.write(arguments)
        return writer.offset
    }

    func send<Arguments: WireRecord, Reply: WireRecord>(_ opcode: FuseOpcode, node: UInt64, _ arguments: Arguments,
                                                        replyType: Reply.Type) -> Reply? {
        let length = encode(opcode, node: node, arguments)
        let replyLength = FuseOutHeader.wireSize + Reply.wireSize
        guard let written = device.call(readable: [DeviceBuffer(base: request.baseAddress!, count: length)],
                                        writable: [DeviceBuffer(base: reply.baseAddress!, count: replyLength)]) else {
            print("smoke: opcode \(opcode.rawValue) failed (device broken)")
            return nil
        }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: reply[0..<written]))
        guard let header = reader.read(FuseOutHeader.self), header.unique == unique, header.error == 0 else {
            print("smoke: opcode \(opcode.rawValue): bad reply header (\(written) bytes)")
            return nil
        }
        guard let body = reader.read(Reply.self) else {
            print("smoke: opcode \(opcode.rawValue): reply body too short (\(written) bytes)")
            return nil
        }
        return body
    }

    func sendHighPriority<Arguments: WireRecord>(_ opcode: FuseOpcode, node: UInt64, _ arguments: Arguments) {
        let length = encode(opcode, node: node, arguments)
        device.callHighPriority(readable: [DeviceBuffer(base: request.baseAddress!, count: length)])
    }
}
