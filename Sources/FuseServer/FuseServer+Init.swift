import ScatterGather
import SwiftFSProtocol

/// INIT negotiation and DESTROY.
extension FuseServer {
    /// The protocol version we answer with (at most the kernel's).
    static var ourMinor: UInt32 { 38 }
    /// Oldest minor we accept: fuse_mknod_in, fuse_getattr_in, 40-byte fuse_write_in all exist from 7.12.
    static var oldestMinor: UInt32 { 12 }
    /// Flags the server itself supports regardless of the filesystem. ASYNC_DIO (as
    /// libfuse and virtiofsd grant it): the kernel sends the pieces of a large
    /// O_DIRECT read or write together instead of waiting for each in turn.
    /// AUTO_INVAL_DATA (libfuse's and virtiofsd's default too): a cached read first
    /// refreshes attributes the kernel marked stale or whose timeout passed, and a
    /// changed mtime or size drops the file's page cache. So host-side changes reach
    /// cached readers, and after a write whose setuid bit the daemon cleared
    /// (killpriv_v2) the read an exec makes picks up the new mode before the exec.
    static var serverFlags: FuseInitFlags {
        [.asyncRead, .asyncDIO, .autoInvalData, .bigWrites, .maxPages, .parallelDirops, .initExt]
    }

    func initialize(request: inout ScatterReader, reply: inout ScatterWriter) throws(Errno) {
        // 7.36+ kernels send 64 bytes (with flags2); older ones 16.
        guard request.remaining >= FuseCompatSize.initIn else { throw Errno.EINVAL }
        var initIn = FuseInitIn()
        _ = withUnsafeMutableBytes(of: &initIn) { raw in
            request.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<min(raw.count, request.remaining)]))
        }
        var out = FuseInitOut()
        out.major = FuseProtocol.kernelMajor
        out.minor = Self.ourMinor
        if initIn.major > FuseProtocol.kernelMajor {
            // A newer major: answer with ours only; the kernel retries with 7.x.
            try reply.put(out, truncatedTo: FuseCompatSize.initOut)
            return
        }
        guard initIn.major == FuseProtocol.kernelMajor, initIn.minor >= Self.oldestMinor else {
            logger.error("unsupported FUSE protocol \(initIn.major).\(initIn.minor)")
            throw Errno.EPROTO
        }
        if initialized.load(ordering: .acquiring) {
            // A new session (guest reboot) on a live server: start from nothing.
            fileSystem.destroy()
        }

        let offered = FuseInitFlags(flags: initIn.flags, flags2: initIn.flags2)
        let wanted = try fileSystem.initialize(offered: offered)
        let granted = offered.intersection(wanted.union(Self.serverFlags))

        out.minor = min(initIn.minor, Self.ourMinor)
        out.maxReadahead = min(initIn.maxReadahead, UInt32(options.maxReadahead))
        out.flags = UInt32(truncatingIfNeeded: granted.rawValue)
        out.flags2 = granted.contains(.initExt) ? UInt32(truncatingIfNeeded: granted.rawValue >> 32) : 0
        out.maxBackground = options.maxBackground
        out.congestionThreshold = options.congestionThreshold
        out.maxWrite = UInt32(options.maxWrite)
        out.timeGran = 1
        // Without MAX_PAGES the kernel clamps requests to 32 pages whatever max_write says.
        out.maxPages = granted.contains(.maxPages) ? UInt16(min(65535, (options.maxWrite + 4095) / 4096)) : 0
        out.mapAlignment = granted.contains(.mapAlignment) ? fileSystem.mapAlignmentShift : 0

        let size = out.minor < 23 ? FuseCompatSize.initOut22 : FuseInitOut.wireSize
        try reply.put(out, truncatedTo: size)
        initialized.store(true, ordering: .releasing)
        logger.info("FUSE session \(out.major).\(out.minor): flags \(hex(granted.rawValue)), max_write \(out.maxWrite), max_pages \(out.maxPages)")
    }

    func destroy() {
        initialized.store(false, ordering: .releasing)
        fileSystem.destroy()
    }
}

private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
