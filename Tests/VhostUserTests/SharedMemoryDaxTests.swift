import FuseServer
import Glibc
import Logging
import Passthrough
import SwiftFSProtocol
import Synchronization
import SystemSupport
import Testing
@testable import VhostUser
import VhostUserFS

/// DAX through the vhost-user SHMEM feature (newer QEMU), over real
/// socketpairs: the offer, GET_SHMEM_CONFIG, the back-end channel, and the
/// exact SHMEM_MAP/UNMAP messages a SETUPMAPPING/REMOVEMAPPING produces.
@Suite(.serialized) struct SharedMemoryDaxTests {
    static let windowSize: UInt64 = 64 << 20
    static let shmemFeatures = VhostUserProtocolFeature.replyAck | VhostUserProtocolFeature.multiQueue
        | VhostUserProtocolFeature.backendRequests | VhostUserProtocolFeature.sharedMemory

    /// Reads one whole message (and any descriptor) from the front end's end of the back-end channel.
    static func receiveBackendRequest(_ fd: Int32) throws -> (header: [UInt8], payload: [UInt8], fds: ReceivedDescriptors) {
        let connection = VhostUserConnection(OwnedDescriptor(dup(fd)))
        let message = try #require(try connection.receive())
        let header = withUnsafeBytes(of: message.header) { Array($0) }
        return (header, message.payload, message.fds)
    }

    /// The front end's status reply to a back-end request.
    static func replyStatus(_ fd: Int32, request: UInt32, status: UInt64) {
        var bytes: [UInt8] = []
        for word in [request, VhostUserHeader.version | VhostUserHeader.replyFlag, 8] { withUnsafeBytes(of: word.littleEndian) { bytes += $0 } }
        withUnsafeBytes(of: status.littleEndian) { bytes += $0 }
        #expect(Glibc.write(fd, bytes, bytes.count) == bytes.count)
    }

    static func littleEndian(_ values: [UInt64]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    /// A front end that acked `protocolFeatures` and handed over one end of a channel socketpair.
    static func connect(offer: VirtioFSSharedMemoryOffer?, protocolFeatures: UInt64,
                        handler: any FuseRequestHandler = MiniFuseHandler(), guest: TestGuest,
                        call: Int32, kick: Int32) -> (TestFrontEnd, channel: Int32) {
        let frontEnd = TestFrontEnd(handler: handler, sharedMemory: offer)
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick, protocolFeatures: protocolFeatures)
        var pair: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        frontEnd.send(.setBackendReqFd, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag, fds: [pair[1]])
        close(pair[1])
        _ = frontEnd.receiveU64() // acknowledged or refused; the tests check the outcome
        return (frontEnd, pair[0])
    }

    @Test func offersShmemAndTheBackendChannelOnlyWithAnOffer() {
        let plain = TestFrontEnd(handler: MiniFuseHandler())
        plain.send(.getProtocolFeatures)
        let offered = plain.receiveU64()
        #expect(offered & VhostUserProtocolFeature.sharedMemory == 0 && offered & VhostUserProtocolFeature.backendRequests == 0)
        plain.disconnect()

        let withOffer = TestFrontEnd(handler: MiniFuseHandler(),
                                     sharedMemory: .init(size: Self.windowSize, mappers: DaxMapperSlot()))
        withOffer.send(.getProtocolFeatures)
        let all = withOffer.receiveU64()
        #expect(all & VhostUserProtocolFeature.sharedMemory != 0 && all & VhostUserProtocolFeature.backendRequests != 0)
        #expect(all & VhostUserBackendOffer.protocolFeatures == VhostUserBackendOffer.protocolFeatures)
        withOffer.disconnect()
    }

    @Test func getShmemConfigReportsTheCacheWindowAsRegionZero() {
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler(), sharedMemory: .init(size: Self.windowSize, mappers: DaxMapperSlot()))
        frontEnd.send(.getShmemConfig)
        let (header, payload) = frontEnd.receive()
        #expect(header.request == 44 && header.flags & VhostUserHeader.replyFlag != 0)
        // u32 nregions = 1, u32 padding, u64 memory_sizes[8] = { 64 MiB, 0... }
        #expect(payload == [1, 0, 0, 0, 0, 0, 0, 0] + Self.littleEndian([Self.windowSize] + [UInt64](repeating: 0, count: 7)))
        frontEnd.disconnect()

        let plain = TestFrontEnd(handler: MiniFuseHandler())
        plain.send(.getShmemConfig)
        #expect(plain.receive().1 == [UInt8](repeating: 0, count: 72), "no regions without an offer")
        plain.disconnect()
    }

    @Test func mapAndUnmapSendTheExactMessagesWithTheFileDescriptor() throws {
        let slot = DaxMapperSlot()
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let (frontEnd, channel) = Self.connect(offer: .init(size: Self.windowSize, mappers: slot),
                                               protocolFeatures: Self.shmemFeatures, guest: guest, call: call, kick: kick)
        defer { close(channel); frontEnd.disconnect() }
        let mapper = try #require(slot.mapper as? SharedMemoryDaxMapper, "SHMEM acked and a channel given: SHMEM_MAP is the mechanism")
        #expect(!mapper.holdsCopies && mapper.windowSize == Self.windowSize && mapper.channel.awaitsReplies)

        let file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        let outcome = Mutex<Errno?>(nil)
        let mapping = NativeThread(name: "map") {
            do throws(Errno) {
                try mapper.map(DaxRange(windowOffset: 4 << 20, fileOffset: 6 << 20, length: 2 << 20), file: file, writable: true)
            } catch { outcome.withLock { $0 = error } }
        }
        let map = try Self.receiveBackendRequest(channel)
        // u32 request 9, u32 flags (version 1 | NEED_REPLY), u32 size 40
        #expect(map.header == [9, 0, 0, 0, 0x09, 0, 0, 0, 40, 0, 0, 0])
        // u8 shmid 0, u8 padding[7], u64 fd_offset, u64 shm_offset, u64 len, u64 flags (1: read-write)
        #expect(map.payload == [UInt8](repeating: 0, count: 8) + Self.littleEndian([6 << 20, 4 << 20, 2 << 20, 1]))
        #expect(map.fds.count == 1)
        var passed = stat(), original = stat()
        fstat(map.fds[0], &passed)
        fstat(file, &original)
        #expect(passed.st_ino == original.st_ino && passed.st_dev == original.st_dev, "the file itself is passed")
        Self.replyStatus(channel, request: 9, status: 0)
        mapping.join()
        #expect(outcome.withLock { $0 } == nil)

        // UNMAP carries no descriptor; a refusal from the front end is EIO.
        let unmapping = NativeThread(name: "unmap") {
            do throws(Errno) { try mapper.unmap(DaxRange(windowOffset: 4 << 20, fileOffset: 0, length: 2 << 20)) } catch {
                outcome.withLock { $0 = error }
            }
        }
        let unmap = try Self.receiveBackendRequest(channel)
        #expect(unmap.header == [10, 0, 0, 0, 0x09, 0, 0, 0, 40, 0, 0, 0])
        #expect(unmap.payload == [UInt8](repeating: 0, count: 8) + Self.littleEndian([0, 4 << 20, 2 << 20, 0]))
        #expect(unmap.fds.isEmpty)
        Self.replyStatus(channel, request: 10, status: 1)
        unmapping.join()
        #expect(outcome.withLock { $0 } == Errno.EIO)
    }

    @Test func aFrontEndWithoutShmemGetsNoMapper() {
        // As QEMU 7.2: it knows BACKEND_REQ and hands over a channel, but not SHMEM.
        let slot = DaxMapperSlot()
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let (frontEnd, channel) = Self.connect(offer: .init(size: Self.windowSize, mappers: slot),
                                               protocolFeatures: Self.shmemFeatures & ~VhostUserProtocolFeature.sharedMemory,
                                               guest: guest, call: call, kick: kick)
        #expect(slot.mapper == nil)
        close(channel)
        frontEnd.disconnect()
    }

    @Test func aWindowFileKeepsTheCopyingMechanismAndOffersNoShmem() throws {
        let path = "/dev/shm/swiftfs-shmem-test-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(ftruncate(fd, off_t(2 << 20)) == 0)
        close(fd)
        defer { unlink(path) }
        // What swiftfsd does with --dax-window: the slot holds the file, no SHMEM offer.
        let slot = DaxMapperSlot(try DaxWindowFile(path: path, size: 2 << 20))
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        #expect(frontEnd.receiveU64() & VhostUserProtocolFeature.sharedMemory == 0)
        frontEnd.disconnect()
        #expect(slot.mapper is DaxWindowFile && slot.mapper?.holdsCopies == true)
    }

    @Test func setupMappingThroughTheVirtqueueBecomesShmemMap() throws {
        let share = try PassthroughOverVirtqueueTests.makeShare()
        defer { PassthroughOverVirtqueueTests.removeShare(share) }
        let slot = DaxMapperSlot()
        var options = PassthroughOptions(sharedDir: share)
        options.dax = slot
        var logger = Logger(label: "test.shmem")
        logger.logLevel = .critical
        let server = try makePassthroughServer(options: options, logger: logger)
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let (frontEnd, channel) = Self.connect(offer: .init(size: Self.windowSize, mappers: slot),
                                               protocolFeatures: Self.shmemFeatures, handler: server,
                                               guest: guest, call: call, kick: kick)
        defer { close(channel); frontEnd.disconnect() }
        let queue = VirtqueueDriver(guest: guest, kick: kick, call: call)

        var initIn = FuseInitIn()
        initIn.major = 7; initIn.minor = 38
        initIn.flags = UInt32(truncatingIfNeeded: FuseInitFlags([.mapAlignment, .initExt]).rawValue)
        let initReply = queue.finish(queue.submit(opcode: FuseOpcode.`init`.rawValue, node: 0, body: initIn))
        let initOut = initReply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseInitOut.self) }
        #expect(initOut.mapAlignment == 21 && initOut.flags & UInt32(FuseInitFlags.mapAlignment.rawValue) != 0)

        let lookup = queue.finish(queue.submit(opcode: FuseOpcode.lookup.rawValue, node: 1, bytes: Array("hello\0".utf8)))
        let node = lookup.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseEntryOut.self) }.nodeID

        // Linux's form: fh all ones, the node names the file; 4 MiB become two 2 MiB maps.
        var setup = FuseSetupMappingIn()
        setup.fh = UInt64.max
        setup.foffset = 0
        setup.len = 4 << 20
        setup.flags = FuseFlag.mappingRead
        setup.moffset = 8 << 20
        let pending = queue.submit(opcode: FuseOpcode.setupMapping.rawValue, node: node, body: setup)
        for slot in 0..<2 {
            let map = try Self.receiveBackendRequest(channel)
            #expect(map.header.prefix(4) == [9, 0, 0, 0])
            #expect(map.payload == [UInt8](repeating: 0, count: 8)
                + Self.littleEndian([UInt64(slot) << 21, (8 << 20) + (UInt64(slot) << 21), 2 << 20, 0]))
            var st = stat()
            #expect(map.fds.count == 1 && fstat(map.fds[0], &st) == 0 && st.st_size == 13, "the shared file \"hello\"")
            Self.replyStatus(channel, request: 9, status: 0)
        }
        let setupReply = queue.finish(pending)
        #expect(setupReply.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error == 0)

        var removal = FuseRemoveMappingIn()
        removal.count = 1
        var one = FuseRemoveMappingOne()
        one.moffset = 10 << 20
        one.len = 2 << 20
        var body = withUnsafeBytes(of: removal) { Array($0) }
        body += withUnsafeBytes(of: one) { Array($0) }
        let removing = queue.submit(opcode: FuseOpcode.removeMapping.rawValue, node: node, bytes: body)
        let unmap = try Self.receiveBackendRequest(channel)
        #expect(unmap.header.prefix(4) == [10, 0, 0, 0])
        #expect(unmap.payload == [UInt8](repeating: 0, count: 8) + Self.littleEndian([0, 10 << 20, 2 << 20, 0]))
        Self.replyStatus(channel, request: 10, status: 0)
        #expect(queue.finish(removing).withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error == 0)
    }
}

/// Drives request queue 1 of a TestGuest like a guest driver: one chain per
/// request, and the reply collected once the back end used it.
final class VirtqueueDriver {
    let guest: TestGuest, kick: Int32, call: Int32
    private var nextHead = 0, unique: UInt64 = 0

    init(guest: TestGuest, kick: Int32, call: Int32) { self.guest = guest; self.kick = kick; self.call = call }

    struct Pending { let replyAddress: UInt64; let usedIndex: UInt16 }

    func submit<T: WireRecord>(opcode: UInt32, node: UInt64, body: T) -> Pending {
        submit(opcode: opcode, node: node, bytes: withUnsafeBytes(of: body) { Array($0) })
    }

    func submit(opcode: UInt32, node: UInt64, bytes body: [UInt8]) -> Pending {
        let head = nextHead
        nextHead += 2
        unique += 1
        let request = TestGuest.buffers + UInt64(head) * 0x4000
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + body.count)
        header.opcode = opcode
        header.unique = unique
        header.nodeID = node
        guest.write(header, at: request)
        body.withUnsafeBytes { (guest.bytes + Int(request) + FuseInHeader.wireSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        guest.setDescriptor(head, address: request, length: header.len, flags: VirtqDescriptor.flagNext, next: UInt16(head + 1))
        guest.setDescriptor(head + 1, address: request + 0x1000, length: 0x3000, flags: VirtqDescriptor.flagWrite)
        let pending = Pending(replyAddress: request + 0x1000, usedIndex: guest.usedIndex)
        guest.setUsedEvent(pending.usedIndex)
        guest.offer(UInt16(head))
        EventNotifier.signal(kick)
        return pending
    }

    /// The reply bytes, once the back end has used the chain.
    func finish(_ pending: Pending) -> [UInt8] {
        for _ in 0..<500 where guest.usedIndex == pending.usedIndex { _ = waitForEvent(call, milliseconds: 10) }
        precondition(guest.usedIndex != pending.usedIndex, "no reply")
        let used = guest.usedElement(Int(pending.usedIndex))
        return Array(UnsafeRawBufferPointer(start: guest.bytes + Int(pending.replyAddress), count: Int(used.length)))
    }
}
