// Boot self-check of the device path (`kernel.smoke`): send FUSE_INIT on the
// first virtio-fs device and print the daemon's answer. It proves PCI, the
// virtio handshake, the split ring and the daemon without the FS layer.

func runFuseInitSelfCheck() -> Bool {
    guard let device = virtioFSDevices.first else {
        print("smoke: no virtio-fs device found")
        return false
    }
    var header = FuseInHeader()
    header.len = UInt32(FuseInHeader.wireSize + FuseInitIn.wireSize)
    header.opcode = FuseOpcode.`init`.rawValue
    header.unique = 1
    var arguments = FuseInitIn()
    arguments.major = FuseProtocol.kernelMajor
    arguments.minor = FuseProtocol.kernelMinor
    arguments.maxReadahead = 131_072

    let request = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(header.len), alignment: 16)
    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: FuseOutHeader.wireSize + FuseInitOut.wireSize, alignment: 16)
    defer { request.deallocate(); reply.deallocate() }
    reply.initializeMemory(as: UInt8.self, repeating: 0)
    var writer = ByteWriter(request)
    writer.write(header)
    writer.write(arguments)

    let start = monotonicNanoseconds()
    guard let written = device.call(readable: [DeviceBuffer(request)], writable: [DeviceBuffer(reply)]) else {
        print("smoke: FUSE_INIT failed (device broken)")
        return false
    }
    let elapsed = monotonicNanoseconds() - start
    var reader = ByteReader(UnsafeRawBufferPointer(reply))
    guard written >= FuseOutHeader.wireSize, let out = reader.read(FuseOutHeader.self) else {
        print("smoke: short FUSE_INIT reply (\(written) bytes)")
        return false
    }
    guard out.error == 0, out.unique == 1 else {
        print("smoke: FUSE_INIT error \(out.error), unique \(out.unique)")
        return false
    }
    guard let initOut = reader.read(FuseInitOut.self) else {
        print("smoke: FUSE_INIT reply without fuse_init_out")
        return false
    }
    print("smoke: FUSE_INIT on '\(device.tag)' -> protocol \(initOut.major).\(initOut.minor), max_write \(initOut.maxWrite), flags 0x\(hex(UInt64(initOut.flags))), reply \(written) bytes in \(elapsed / 1000) us")
    return initOut.major == 7
}
