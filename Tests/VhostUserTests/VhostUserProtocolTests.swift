import CShim
import FuseServer
import Glibc
import ScatterGather
import Synchronization
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// The back end over a real socketpair: QEMU's start-up sequence, a FUSE
/// request through guest memory, bad input, and stopping the ring.
@Suite(.serialized) struct VhostUserProtocolTests {
    let next = VirtqDescriptor.flagNext, write = VirtqDescriptor.flagWrite

    /// Places an INIT request in chain `head` (descriptors head, head+1).
    func placeInit(_ guest: TestGuest, head: Int, unique: UInt64) {
        let request = TestGuest.buffers + UInt64(head) * 0x2000
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + FuseInitIn.wireSize)
        header.opcode = FuseOpcode.`init`.rawValue
        header.unique = unique
        var initIn = FuseInitIn()
        initIn.major = 7; initIn.minor = 38
        guest.write(header, at: request)
        guest.write(initIn, at: request + UInt64(FuseInHeader.wireSize))
        guest.setDescriptor(head, address: request, length: header.len, flags: next, next: UInt16(head + 1))
        guest.setDescriptor(head + 1, address: request + 0x1000, length: 0x1000, flags: write)
    }

    @Test func answersAFuseRequestPlacedInGuestMemory() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)

        placeInit(guest, head: 0, unique: 42)
        guest.offer(0)
        EventNotifier.signal(kick)
        #expect(waitForEvent(call))
        #expect(guest.usedIndex == 1)
        let used = guest.usedElement(0)
        #expect(used.id == 0 && Int(used.length) == FuseOutHeader.wireSize + FuseInitOut.wireSize)
        let reply = guest.read(FuseOutHeader.self, at: TestGuest.buffers + 0x1000)
        #expect(reply.unique == 42 && reply.error == 0)

        frontEnd.send(.getVringBase, VhostUserVringState(index: 1, num: 0))
        let (_, payload) = frontEnd.receive()
        let state = payload.withUnsafeBytes { $0.loadUnaligned(as: VhostUserVringState.self) }
        #expect(state.index == 1 && state.num == 1)
        frontEnd.disconnect()
        close(call); close(kick)
    }

    @Test func returnsBadChainsWithLengthZeroAndKeepsServing() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)

        // Outside memory, a loop, readable after writable, then a good request.
        guest.setDescriptor(0, address: UInt64(TestGuest.size) + 0x1000, length: 64, flags: next, next: 1)
        guest.setDescriptor(1, address: TestGuest.buffers, length: 64, flags: write)
        guest.setDescriptor(2, address: TestGuest.buffers, length: 8, flags: next, next: 3)
        guest.setDescriptor(3, address: TestGuest.buffers, length: 8, flags: next, next: 2)
        guest.setDescriptor(4, address: TestGuest.buffers, length: 8, flags: write | next, next: 5)
        guest.setDescriptor(5, address: TestGuest.buffers, length: 8)
        placeInit(guest, head: 6, unique: 7)
        for head: UInt16 in [0, 2, 4, 6] { guest.offer(head) }
        EventNotifier.signal(kick)
        #expect(waitForEvent(call))
        // Wait for all four (the call may come after the first ones).
        for _ in 0..<100 where guest.usedIndex < 4 { usleep(10_000) }
        #expect(guest.usedIndex == 4)
        #expect((0..<3).map { guest.usedElement($0).length } == [0, 0, 0])
        #expect(guest.usedElement(3).id == 6 && guest.usedElement(3).length > 0)
        #expect(guest.read(FuseOutHeader.self, at: TestGuest.buffers + 6 * 0x2000 + 0x1000).unique == 7)
        frontEnd.disconnect()
        close(call); close(kick)
    }

    @Test func processesRequestsThroughTheThreadPool() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler(), threadPoolSize: 3)
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)
        for head in stride(from: 0, to: 16, by: 2) {
            placeInit(guest, head: head, unique: UInt64(100 + head))
            guest.offer(UInt16(head))
        }
        EventNotifier.signal(kick)
        for _ in 0..<500 where guest.usedIndex < 8 { usleep(10_000) }
        #expect(guest.usedIndex == 8)
        #expect(Set((0..<8).map { guest.usedElement($0).id }) == Set(stride(from: 0, to: 16, by: 2).map { UInt32($0) }))
        frontEnd.send(.getVringBase, VhostUserVringState(index: 1, num: 0))
        let (_, payload) = frontEnd.receive()
        #expect(payload.withUnsafeBytes { $0.loadUnaligned(as: VhostUserVringState.self) }.num == 8)
        frontEnd.disconnect()
        close(call); close(kick)
    }

    @Test func acknowledgesOrRefusesRequestsWhenAskedTo() throws {
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getFeatures)
        let features = frontEnd.receiveU64()
        #expect(features & VirtioFeature.version1 != 0 && features & VirtioFeature.ringEventIndex != 0)
        #expect(features & VirtioFeature.ringIndirectDescriptors != 0 && features & VirtioFeature.vhostUserProtocolFeatures != 0)
        frontEnd.send(.setFeatures, VhostUserU64(features))
        frontEnd.send(.getProtocolFeatures)
        let protocolFeatures = frontEnd.receiveU64()
        #expect(protocolFeatures & VhostUserProtocolFeature.replyAck != 0)
        #expect(protocolFeatures & VhostUserProtocolFeature.config == 0)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(protocolFeatures))
        frontEnd.send(.getQueueNum)
        #expect(frontEnd.receiveU64() == 3)
        frontEnd.send(.getMaxMemSlots)
        #expect(frontEnd.receiveU64() == 32)
        // A queue index out of range, a bad ring size, an unknown request: errors, not crashes.
        frontEnd.send(.setVringNum, VhostUserVringState(index: 9, num: 16), needReply: true)
        #expect(frontEnd.receiveU64() != 0)
        frontEnd.send(.setVringNum, VhostUserVringState(index: 1, num: 100), needReply: true)
        #expect(frontEnd.receiveU64() != 0)
        frontEnd.send(.setStatus, VhostUserU64(0), needReply: true)
        #expect(frontEnd.receiveU64() != 0)
        frontEnd.send(.setVringNum, VhostUserVringState(index: 1, num: 16), needReply: true)
        #expect(frontEnd.receiveU64() == 0)
        // A memory table with more regions than descriptors.
        var header = VhostUserMemoryTableHeader()
        header.regionCount = 2
        var table = withUnsafeBytes(of: &header) { Array($0) }
        table += [UInt8](repeating: 0, count: 2 * VhostUserMemoryRegionDescription.wireSize)
        frontEnd.send(.setMemTable, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag, payload: table)
        #expect(frontEnd.receiveU64() != 0)
        // A short payload.
        frontEnd.send(.setVringBase, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag, payload: [1, 2])
        #expect(frontEnd.receiveU64() != 0)
        frontEnd.send(.getFeatures)
        #expect(frontEnd.receiveU64() == features)
        frontEnd.disconnect()
    }

    @Test func aMessageWithTooManyDescriptorsIsRefusedAndServingGoesOn() throws {
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        let fds = (0..<9).map { _ in EventNotifier.make() }
        frontEnd.send(.setVringCall, VhostUserU64(1), needReply: true, fds: fds)
        fds.forEach { close($0) }
        // Read the answer without the helper's preconditions: a back end that gave up sends none.
        var reply = (header: VhostUserHeader(), status: UInt64(0))
        let received = withUnsafeMutableBytes(of: &reply.header) { recv(frontEnd.fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
        #expect(received == VhostUserHeader.wireSize)
        guard received == VhostUserHeader.wireSize else { frontEnd.disconnect(); return }
        _ = withUnsafeMutableBytes(of: &reply.status) { recv(frontEnd.fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
        #expect(reply.header.request == VhostUserRequest.setVringCall.rawValue && reply.status != 0)
        frontEnd.send(.getFeatures)
        #expect(frontEnd.receiveU64() == VhostUserBackendOffer.features)
        frontEnd.disconnect()
    }

    @Test func addsAndRemovesMemoryRegions() throws {
        let guest = TestGuest()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        var single = VhostUserSingleMemoryRegion()
        single.region.guestPhysicalAddress = 0x100000
        single.region.memorySize = 0x10000
        single.region.userAddress = 0x5000_0000
        frontEnd.send(.addMemReg, single, needReply: true, fds: [guest.fd])
        #expect(frontEnd.receiveU64() == 0)
        frontEnd.send(.addMemReg, single, needReply: true, fds: [guest.fd])
        #expect(frontEnd.receiveU64() != 0, "overlaps the first")
        frontEnd.send(.remMemReg, single, needReply: true)
        #expect(frontEnd.receiveU64() == 0)
        frontEnd.send(.remMemReg, single, needReply: true)
        #expect(frontEnd.receiveU64() != 0, "already removed")
        frontEnd.disconnect()
    }

    /// Found by the vhost-user fuzz target (Fuzz/crashers/VhostUserMessageFuzzer): a
    /// region larger than its file was mapped, and the first ring access past
    /// the file's end killed the daemon with SIGBUS.
    @Test func refusesRegionsPastTheEndOfTheirFile() throws {
        let guest = TestGuest()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        var single = VhostUserSingleMemoryRegion()
        single.region.memorySize = UInt64(TestGuest.size) * 2
        single.region.userAddress = TestGuest.userBase
        frontEnd.send(.addMemReg, single, needReply: true, fds: [guest.fd])
        #expect(frontEnd.receiveU64() != 0, "twice the file's size")
        single.region.memorySize = UInt64(TestGuest.size)
        single.region.mmapOffset = 0x1000
        frontEnd.send(.addMemReg, single, needReply: true, fds: [guest.fd])
        #expect(frontEnd.receiveU64() != 0, "the file's size, but from an offset")
        single.region.mmapOffset = 0
        frontEnd.send(.addMemReg, single, needReply: true, fds: [guest.fd])
        #expect(frontEnd.receiveU64() == 0, "exactly the file")
        frontEnd.disconnect()
    }

    @Test func signalsACallDescriptorInstalledAfterTheRingStarted() throws {
        // QEMU 7.2 sends SET_VRING_CALL after SET_VRING_ENABLE: a reply
        // completed before it must still reach the guest.
        let guest = TestGuest()
        let early = EventNotifier.make(), call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 1, callFd: early, kickFd: kick)
        frontEnd.send(.setVringCall, VhostUserU64(1 | VhostUserVringFileDescriptor.noFileDescriptorFlag))
        _ = waitForEvent(early, milliseconds: 100)
        placeInit(guest, head: 0, unique: 1)
        guest.offer(0)
        EventNotifier.signal(kick)
        for _ in 0..<200 where guest.usedIndex == 0 { usleep(5_000) }
        #expect(guest.usedIndex == 1)
        frontEnd.send(.setVringCall, VhostUserU64(1), fds: [call])
        #expect(waitForEvent(call))
        frontEnd.disconnect()
        close(early); close(call); close(kick)
    }

    @Test func aRunningRingReportsABrokenRingOnItsReplacedErrorDescriptor() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let oldError = EventNotifier.make(), newError = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)
        frontEnd.send(.setVringErr, VhostUserU64(1), needReply: true, fds: [oldError])
        #expect(frontEnd.receiveU64() == 0)
        frontEnd.send(.setVringErr, VhostUserU64(1), needReply: true, fds: [newError])
        #expect(frontEnd.receiveU64() == 0)
        // avail.idx more than a queue ahead: the ring is broken.
        (guest.bytes + Int(guest.availableRingAddress)).storeBytes(of: UInt16(100), toByteOffset: 2, as: UInt16.self)
        EventNotifier.signal(kick)
        #expect(waitForEvent(newError))
        #expect(!waitForEvent(oldError, milliseconds: 50))
        frontEnd.disconnect()
        close(call); close(kick); close(oldError); close(newError)
    }

    @Test func resumesFromTheBaseAfterGetVringBase() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)
        placeInit(guest, head: 0, unique: 1)
        guest.offer(0)
        EventNotifier.signal(kick)
        #expect(waitForEvent(call))
        frontEnd.send(.getVringBase, VhostUserVringState(index: 1, num: 0))
        let (_, payload) = frontEnd.receive()
        #expect(payload.withUnsafeBytes { $0.loadUnaligned(as: VhostUserVringState.self) }.num == 1)
        // Stopped: a new request waits until the ring is started again with the base.
        placeInit(guest, head: 2, unique: 2)
        guest.offer(2)
        EventNotifier.signal(kick)
        usleep(50_000)
        #expect(guest.usedIndex == 1)
        frontEnd.send(.setVringBase, VhostUserVringState(index: 1, num: 1))
        let kick2 = EventNotifier.make()
        frontEnd.send(.setVringKick, VhostUserU64(1), fds: [kick2])
        EventNotifier.signal(kick2)
        for _ in 0..<200 where guest.usedIndex < 2 { usleep(5_000) }
        #expect(guest.usedIndex == 2 && guest.usedElement(1).id == 2)
        frontEnd.disconnect()
        close(call); close(kick); close(kick2)
    }

    @Test func returnsForgetChainsOnTheHighPriorityQueueWithLengthZero() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.setUp(guest: guest, queue: 0, callFd: call, kickFd: kick)
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + FuseForgetIn.wireSize)
        header.opcode = FuseOpcode.forget.rawValue
        header.unique = 9
        guest.write(header, at: TestGuest.buffers)
        guest.setDescriptor(0, address: TestGuest.buffers, length: header.len)
        guest.offer(0)
        EventNotifier.signal(kick)
        #expect(waitForEvent(call))
        #expect(guest.usedIndex == 1 && guest.usedElement(0).id == 0 && guest.usedElement(0).length == 0)
        frontEnd.disconnect()
        close(call); close(kick)
    }

    @Test func servesSeveralRequestQueuesAtOnce() throws {
        let first = TestGuest()
        let second = TestGuest(queueIn: first, ringOffset: 0x4000)
        let calls = [EventNotifier.make(), EventNotifier.make()], kicks = [EventNotifier.make(), EventNotifier.make()]
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler(), threadPoolSize: 2)
        frontEnd.negotiate(guest: first)
        frontEnd.setUpRing(guest: first, queue: 1, callFd: calls[0], kickFd: kicks[0])
        frontEnd.setUpRing(guest: second, queue: 2, callFd: calls[1], kickFd: kicks[1])
        // Queue 1 uses descriptors 0-1 of its table, queue 2 its own table (buffers apart).
        placeInit(first, head: 0, unique: 11)
        placeInit(second, head: 4, unique: 22)
        first.offer(0)
        second.offer(4)
        EventNotifier.signal(kicks[0])
        EventNotifier.signal(kicks[1])
        #expect(waitForEvent(calls[0]) && waitForEvent(calls[1]))
        #expect(first.usedIndex == 1 && first.usedElement(0).id == 0)
        #expect(second.usedIndex == 1 && second.usedElement(0).id == 4)
        #expect(first.read(FuseOutHeader.self, at: TestGuest.buffers + 0x1000).unique == 11)
        #expect(first.read(FuseOutHeader.self, at: TestGuest.buffers + 4 * 0x2000 + 0x1000).unique == 22)
        frontEnd.disconnect()
        (calls + kicks).forEach { close($0) }
    }

    /// Stands in for a lock service: SETLKW waits until a SETLK arrives.
    final class LockHandler: FuseRequestHandler {
        let released = Atomic<Bool>(false)
        func readHead(_ request: ScatterReader) -> FuseRequestHead {
            var view = request
            let header = view.read(FuseInHeader.self)
            return FuseRequestHead(header: header, mayBlock: header?.opcode == FuseOpcode.setlkw.rawValue)
        }

        func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int {
            guard let header = head.header else { return 0 }
            if header.opcode == FuseOpcode.setlkw.rawValue {
                for _ in 0..<5000 where !released.load(ordering: .acquiring) { usleep(1000) }
            } else if header.opcode == FuseOpcode.setlk.rawValue {
                released.store(true, ordering: .releasing)
            }
            var out = FuseOutHeader()
            out.unique = header.unique
            out.len = UInt32(FuseOutHeader.wireSize)
            reply.write(out)
            return Int(out.len)
        }
    }

    func placeRequest(_ guest: TestGuest, head: Int, opcode: FuseOpcode, unique: UInt64) {
        let request = TestGuest.buffers + UInt64(head) * 0x2000
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize)
        header.opcode = opcode.rawValue
        header.unique = unique
        guest.write(header, at: request)
        guest.setDescriptor(head, address: request, length: header.len, flags: next, next: UInt16(head + 1))
        guest.setDescriptor(head + 1, address: request + 0x1000, length: 0x1000, flags: write)
    }

    @Test func aBlockingLockRequestDoesNotStallItsQueue() throws {
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        let frontEnd = TestFrontEnd(handler: LockHandler(), threadPoolSize: 0)
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)
        placeRequest(guest, head: 0, opcode: .setlkw, unique: 1)
        placeRequest(guest, head: 2, opcode: .setlk, unique: 2)
        guest.offer(0)
        guest.offer(2)
        EventNotifier.signal(kick)
        for _ in 0..<300 where guest.usedIndex < 2 { usleep(10_000) }
        #expect(guest.usedIndex == 2)
        #expect(guest.usedElement(0).id == 2, "the releasing request overtook the blocked one")
        #expect(guest.usedElement(1).id == 0)
        frontEnd.disconnect()
        close(call); close(kick)
    }
}
