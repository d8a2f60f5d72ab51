// Stand-ins for the kernel API so guest/fs and guest/apps run as a host
// program (guest/hosttest/run), and guest/fs as the GuestFileSystem target of
// Package.swift. The device's requests go to a responder: a scripted server in
// guest/hosttest, the real FuseServer in Tests/GuestClientTests.

import Glibc
#if canImport(SwiftFSProtocol)
// In the package, protocol/ is its own module (guest builds compile it into the same module).
@_exported import SwiftFSProtocol
#endif

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

struct DeviceBuffer {
    var base: UnsafeMutableRawPointer
    var count: Int
}

/// The kernel's device API; requests go to `responder` (FuseFaultTest scripts the replies).
/// High-priority requests (FORGET) go there too, with no writable buffers: they take no reply.
final class VirtioFSDevice {
    let tag: String
    let requestQueueCount = 1
    var responder: ((_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int?)? = nil
    private(set) var highPriorityRequests = 0

    init(tag: String = "none") { self.tag = tag }

    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? {
        responder?(readable, writable)
    }

    func callHighPriority(readable: [DeviceBuffer]) {
        highPriorityRequests += 1
        _ = responder?(readable, [])
    }

    /// Background requests are answered at once here (the responder is synchronous).
    func post(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Bool {
        responder?(readable, writable) != nil
    }
    var postedCount: Int { 0 }
    func drain() {}

    private(set) var isBroken = false
    /// A test may hand the client a DAX window (host memory).
    var cacheWindow: UnsafeMutableRawBufferPointer? = nil
    var cacheWindowSource: String { cacheWindow == nil ? "none" : "host memory" }
}

/// nonisolated(unsafe) as in the single-threaded kernel; host tests that use it run serialized.
nonisolated(unsafe) var virtioFSDevices: [VirtioFSDevice] = []

/// Copies a scripted reply over the writable buffers of a chain, as a device
/// does; returns the bytes written (at most the buffers' room).
func scatter(_ reply: [UInt8], into writable: [DeviceBuffer]) -> Int {
    var written = 0
    for buffer in writable where written < reply.count {
        let count = min(buffer.count, reply.count - written)
        reply.withUnsafeBytes { buffer.base.copyMemory(from: $0.baseAddress! + written, byteCount: count) }
        written += count
    }
    return written
}
