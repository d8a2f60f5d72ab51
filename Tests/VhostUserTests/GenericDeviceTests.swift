import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// The back end with a device that is not FUSE (`ReversingDevice`): requests,
/// scheduling of requests that may block, stopping a queue, shared memory.
@Suite(.serialized) struct GenericDeviceTests {
    func submit(_ guest: TestGuest, head: Int, bytes: [UInt8], kick: Int32) {
        guest.offerRequest(bytes, head: head)
        EventNotifier.signal(kick)
    }

    func reply(_ guest: TestGuest, head: Int) -> [UInt8]? { guest.reply(head: head) }

    @Test func servesRequestsOfADeviceThatIsNotFuse() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = TestFrontEnd(device: ReversingDevice())
        defer { frontEnd.disconnect() }
        frontEnd.setUp(guest: guest, queue: 0, callFd: call, kickFd: kick)
        submit(guest, head: 0, bytes: Array("virtqueue".utf8), kick: kick)
        #expect(waitForEvent(call))
        #expect(reply(guest, head: 0) == Array("eueuqtriv".utf8))
    }

    /// Issue 6, finding 5, for any device: a request that may block runs on the pool
    /// (the queue keeps serving), and GET_VRING_BASE interrupts it instead of waiting.
    @Test func aBlockingRequestLeavesItsQueueServingAndStoppingInterruptsIt() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let device = ReversingDevice()
        let frontEnd = TestFrontEnd(device: device)
        defer { frontEnd.disconnect() }
        frontEnd.setUp(guest: guest, queue: 0, callFd: call, kickFd: kick)

        submit(guest, head: 0, bytes: [ReversingDevice.blockingMark, 1, 2], kick: kick)
        #expect(device.waitUntilBlocked())
        submit(guest, head: 2, bytes: [1, 2, 3], kick: kick)
        #expect(waitForEvent(call))
        #expect(reply(guest, head: 2) == [3, 2, 1], "served while the first request waits")
        #expect(reply(guest, head: 0) == nil)

        frontEnd.send(.getVringBase, VhostUserVringState(index: 0, num: 0))
        let (_, payload) = frontEnd.receive()
        #expect(payload.withUnsafeBytes { $0.loadUnaligned(as: VhostUserVringState.self) }.num == 2)
        #expect(reply(guest, head: 0) == [ReversingDevice.interruptedMark], "interrupted and answered before GET_VRING_BASE's reply")
    }

    @Test func reportsTheDevicesSharedMemoryRegionsAndHandsItTheChannel() throws {
        let device = ReversingDevice(sharedMemoryRegions: [2 << 20, 8 << 20])
        let frontEnd = TestFrontEnd(device: device)
        defer { frontEnd.disconnect() }
        frontEnd.send(.getProtocolFeatures)
        let offered = frontEnd.receiveU64()
        let shmem = VhostUserProtocolFeature.backendRequests | VhostUserProtocolFeature.sharedMemory
        #expect(offered & shmem == shmem)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(VhostUserProtocolFeature.replyAck | shmem))
        frontEnd.send(.getShmemConfig)
        let (_, config) = frontEnd.receive()
        let sizes = config.withUnsafeBytes { bytes in (0..<8).map { bytes.loadUnaligned(fromByteOffset: 8 + 8 * $0, as: UInt64.self) } }
        #expect(config.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } == 2)
        #expect(sizes == [2 << 20, 8 << 20, 0, 0, 0, 0, 0, 0])

        var pair: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]) }
        frontEnd.send(.setBackendReqFd, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag, fds: [pair[1]])
        close(pair[1])
        #expect(frontEnd.receiveU64() == 0)
        #expect(device.channels.withLock { $0.count } == 1)
    }

    @Test func aDeviceWithoutSharedMemoryIsOfferedNoChannel() {
        let frontEnd = TestFrontEnd(device: ReversingDevice())
        defer { frontEnd.disconnect() }
        frontEnd.send(.getProtocolFeatures)
        #expect(frontEnd.receiveU64() == VhostUserBackendOffer.protocolFeatures)
    }
}
