// Stand-in for the kernel's virtio-9p device in the host build (guest/hosttest/run, Package.swift):
// requests go to `responder` (NinePFaultTest scripts the replies).

final class VirtioNinePDevice {
    let tag: String
    var responder: ((_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int?)? = nil

    init(tag: String = "none") { self.tag = tag }

    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? {
        responder?(readable, writable)
    }
}

/// nonisolated(unsafe) as in the single-threaded kernel; host tests that use it run serialized.
nonisolated(unsafe) var virtioNinePDevices: [VirtioNinePDevice] = []
