import CShim
import FuseServer
import Glibc
import Logging
import ScatterGather
import SwiftFSProtocol
import SystemSupport
@testable import VhostUser
import VhostUserFS

/// Plays QEMU: sends vhost-user messages (with descriptors over
/// SCM_RIGHTS) on one end of a socketpair while a `VhostUserBackend` serves
/// the other end on its own thread.
final class TestFrontEnd {
    let fd: Int32
    private let backendThread: NativeThread?

    /// A back end serving `device`.
    init<Device: VirtioDeviceHandler>(device: Device, threadPoolSize: Int = 0) {
        var pair: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        fd = pair[0]
        let backendFd = pair[1]
        var logger = Logger(label: "test.vhost")
        logger.logLevel = .critical
        backendThread = NativeThread(name: "backend") { [logger] in
            let backend = VhostUserBackend(device: device, configuration: .init(maxQueues: 3, threadPoolSize: threadPoolSize),
                                           logger: logger)
            try? backend.serve(VhostUserConnection(OwnedDescriptor(backendFd)))
        }
    }

    /// A back end serving the virtio-fs device over `handler`.
    convenience init<Handler: FuseRequestHandler>(handler: Handler, threadPoolSize: Int = 0,
                     sharedMemory: VirtioFSSharedMemoryOffer? = nil) {
        self.init(device: VirtioFSDevice(handler: handler, sharedMemory: sharedMemory), threadPoolSize: threadPoolSize)
    }

    /// Plays QEMU for a daemon in another process, listening on `path`.
    init?(connectingTo path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        backendThread = nil
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { shim_connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
    }

    /// Hangs up and waits for the back end to finish.
    func disconnect() {
        close(fd)
        backendThread?.join()
    }

    func send(_ request: VhostUserRequest, flags: UInt32 = VhostUserHeader.version, payload: [UInt8] = [], fds: [Int32] = []) {
        var bytes = [UInt8](repeating: 0, count: VhostUserHeader.wireSize)
        bytes.withUnsafeMutableBytes {
            $0.storeBytes(of: VhostUserHeader(request: request.rawValue, flags: flags, size: UInt32(payload.count)), as: VhostUserHeader.self)
        }
        sendRaw(bytes + payload, fds: fds)
    }

    /// Sends `bytes` as they are (possibly not a whole message), with `fds` on the first byte.
    func sendRaw(_ bytes: [UInt8], fds: [Int32] = []) {
        let sent = bytes.withUnsafeBytes { sendPassingDescriptors(fd, $0, descriptors: fds) }
        precondition(sent == bytes.count)
    }

    func send<T: WireRecord>(_ request: VhostUserRequest, _ value: T, needReply: Bool = false, fds: [Int32] = []) {
        var copy = value
        let payload = withUnsafeBytes(of: &copy) { Array($0) }
        send(request, flags: VhostUserHeader.version | (needReply ? VhostUserHeader.needReplyFlag : 0), payload: payload, fds: fds)
    }

    /// Reads one reply; returns its header and payload.
    func receive() -> (VhostUserHeader, [UInt8]) {
        var header = VhostUserHeader()
        withUnsafeMutableBytes(of: &header) { precondition(recv(fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) == $0.count) }
        var payload = [UInt8](repeating: 0, count: Int(header.size))
        if header.size > 0 {
            payload.withUnsafeMutableBytes { precondition(recv(fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) == $0.count) }
        }
        return (header, payload)
    }

    func receiveU64() -> UInt64 {
        let (_, payload) = receive()
        return payload.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    /// The usual QEMU start-up for one queue of `guest`: negotiation, memory table, the ring.
    func setUp(guest: TestGuest, queue: UInt32, callFd: Int32, kickFd: Int32, features: UInt64? = nil,
               protocolFeatures: UInt64 = VhostUserProtocolFeature.replyAck | VhostUserProtocolFeature.multiQueue) {
        negotiate(guest: guest, features: features, protocolFeatures: protocolFeatures)
        setUpRing(guest: guest, queue: queue, callFd: callFd, kickFd: kickFd)
    }

    /// Acks `protocolFeatures` of what the back end offers.
    func negotiate(guest: TestGuest, features: UInt64? = nil,
                   protocolFeatures wanted: UInt64 = VhostUserProtocolFeature.replyAck | VhostUserProtocolFeature.multiQueue) {
        send(.getFeatures)
        let offered = receiveU64()
        send(.setFeatures, VhostUserU64(features ?? offered))
        send(.getProtocolFeatures)
        let protocolFeatures = receiveU64()
        send(.setProtocolFeatures, VhostUserU64(protocolFeatures & wanted))
        send(.setOwner)
        var table = [UInt8]()
        var header = VhostUserMemoryTableHeader()
        header.regionCount = 1
        withUnsafeBytes(of: &header) { table += $0 }
        var region = VhostUserMemoryRegionDescription()
        region.guestPhysicalAddress = 0
        region.memorySize = UInt64(TestGuest.size)
        region.userAddress = TestGuest.userBase
        withUnsafeBytes(of: &region) { table += $0 }
        send(.setMemTable, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag, payload: table, fds: [guest.fd])
        precondition(receiveU64() == 0, "SET_MEM_TABLE acknowledged")
    }

    /// SET_VRING_* for one queue whose rings are `guest`'s.
    func setUpRing(guest: TestGuest, queue: UInt32, callFd: Int32, kickFd: Int32) {
        send(.setVringNum, VhostUserVringState(index: queue, num: UInt32(guest.queueSize)))
        var address = VhostUserVringAddress()
        address.index = queue
        address.descriptors = TestGuest.userBase + guest.descriptorTableAddress
        address.available = TestGuest.userBase + guest.availableRingAddress
        address.used = TestGuest.userBase + guest.usedRingAddress
        send(.setVringAddr, address)
        send(.setVringBase, VhostUserVringState(index: queue, num: 0))
        send(.setVringCall, VhostUserU64(UInt64(queue)), fds: [callFd])
        send(.setVringKick, VhostUserU64(UInt64(queue)), fds: [kickFd])
        send(.setVringEnable, VhostUserVringState(index: queue, num: 1), needReply: true)
        precondition(receiveU64() == 0, "SET_VRING_ENABLE acknowledged")
    }
}

/// Waits up to `milliseconds` for an eventfd to be signalled and consumes it.
func waitForEvent(_ fd: Int32, milliseconds: Int32 = 5000) -> Bool {
    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, milliseconds) == 1 else { return false }
    EventNotifier.drain(fd)
    return true
}

/// The smallest FUSE peer: answers INIT, takes FORGET silently, and says
/// ENOSYS to everything else. Stands in for the FUSE server in transport tests.
struct MiniFuseHandler: FuseRequestHandler {
    func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int {
        guard let header = head.header else { return 0 }
        if header.opcode == FuseOpcode.forget.rawValue { return 0 }
        var out = FuseOutHeader()
        out.unique = header.unique
        if header.opcode == FuseOpcode.`init`.rawValue {
            var initOut = FuseInitOut()
            initOut.major = 7; initOut.minor = 38; initOut.maxWrite = 1 << 20
            out.len = UInt32(FuseOutHeader.wireSize + FuseInitOut.wireSize)
            guard reply.write(out), reply.write(initOut) else { return 0 }
        } else {
            out.error = -ENOSYS
            out.len = UInt32(FuseOutHeader.wireSize)
            guard reply.write(out) else { return 0 }
        }
        return Int(out.len)
    }
}
