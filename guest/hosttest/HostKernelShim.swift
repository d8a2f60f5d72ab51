// Stand-ins for the kernel API so guest/fs and guest/apps run as a host
// program (guest/hosttest/run). Only /ram is exercised: no virtio-fs device.

import Glibc

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

struct DeviceBuffer {
    var base: UnsafeMutableRawPointer
    var count: Int
}

final class VirtioFSDevice {
    let tag = "none"
    let requestQueueCount = 1
    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? { nil }
    func callHighPriority(readable: [DeviceBuffer]) {}
    var cacheWindow: UnsafeMutableRawBufferPointer? { nil }
}

var virtioFSDevices: [VirtioFSDevice] = []

@main
struct HostTestMain {
    static func main() {
        let commandLine = CommandLine.arguments.dropFirst().joined(separator: " ")
        exit(applicationMain(commandLine: commandLine))
    }
}
