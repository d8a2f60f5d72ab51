// Stand-in for the kernel's virtio-9p device in the host build (guest/hosttest/run):
// requests go to `responder` (NinePFaultTest scripts the replies).

final class VirtioNinePDevice {
    let tag: String
    var responder: ((_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int?)? = nil

    init(tag: String = "none") { self.tag = tag }

    func call(readable: [DeviceBuffer], writable: [DeviceBuffer]) -> Int? {
        responder?(readable, writable)
    }
}

var virtioNinePDevices: [VirtioNinePDevice] = []
