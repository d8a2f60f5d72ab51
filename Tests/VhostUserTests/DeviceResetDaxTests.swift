import FuseServer
import Glibc
import Logging
import Passthrough
import SwiftFSProtocol
import SystemSupport
import Testing
@testable import VhostUser
import VhostUserFS

/// A device reset or a hang-up ends the guest driver's DAX mappings, through
/// the real back end over a socketpair: the guest's stores in a copying
/// window reach the file, and the table forgets the mappings (a new driver
/// starts with an empty window); with SHMEM nothing is unmapped, since the
/// front end dropped the mappings with the device.
@Suite(.serialized) struct DeviceResetDaxTests {
    static let windowSize: UInt64 = 4 << 20
    static let original = Array("hello, guest\n".utf8)

    /// A share holding "hello" (13 bytes) served with a DAX mapper slot.
    final class Share {
        let path: String
        let slot: DaxMapperSlot
        let server: FuseServer<PassthroughFileSystem>

        init(slot: DaxMapperSlot) throws {
            path = try PassthroughOverVirtqueueTests.makeShare()
            self.slot = slot
            var options = PassthroughOptions(sharedDir: path)
            options.dax = slot
            var logger = Logger(label: "test.reset")
            logger.logLevel = .critical
            server = try makePassthroughServer(options: options, logger: logger)
        }

        var hostBytes: [UInt8] {
            let fd = open(path + "/hello", O_RDONLY | O_CLOEXEC)
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: 64)
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            return Array(bytes.prefix(max(0, n)))
        }

        deinit { PassthroughOverVirtqueueTests.removeShare(path) }
    }

    /// The --dax-window mechanism: a shared file holding copies.
    final class WindowFile {
        let path = "/dev/shm/swiftfs-reset-test-\(getpid())"
        let window: DaxWindowFile

        init() throws {
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            #expect(ftruncate(fd, off_t(DeviceResetDaxTests.windowSize)) == 0)
            close(fd)
            window = try DaxWindowFile(path: path, size: DeviceResetDaxTests.windowSize)
        }

        deinit { unlink(path) }
    }

    /// A guest driver on queue 1 of `guest` (set up by the front end): INIT with DAX, LOOKUP of "hello".
    struct Driver {
        let queue: VirtqueueDriver
        let node: UInt64

        init(guest: TestGuest, call: Int32, kick: Int32) throws {
            queue = VirtqueueDriver(guest: guest, kick: kick, call: call)
            var initIn = FuseInitIn()
            initIn.major = 7; initIn.minor = 38
            initIn.flags = UInt32(truncatingIfNeeded: FuseInitFlags([.mapAlignment, .initExt]).rawValue)
            let initReply = queue.finish(queue.submit(opcode: FuseOpcode.`init`.rawValue, node: 0, body: initIn))
            #expect(Self.error(initReply) == 0)
            let lookup = queue.finish(queue.submit(opcode: FuseOpcode.lookup.rawValue, node: 1, bytes: Array("hello\0".utf8)))
            #expect(Self.error(lookup) == 0)
            node = lookup.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseEntryOut.self) }.nodeID
        }

        static func error(_ reply: [UInt8]) -> Int32 {
            reply.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error
        }

        /// Linux's SETUPMAPPING (fh all ones, the node names the file) of the file's first 2 MiB at `windowOffset`.
        func setupMapping(windowOffset: UInt64, writable: Bool) -> VirtqueueDriver.Pending {
            var setup = FuseSetupMappingIn()
            setup.fh = UInt64.max
            setup.len = 2 << 20
            setup.flags = FuseFlag.mappingRead | (writable ? FuseFlag.mappingWrite : 0)
            setup.moffset = windowOffset
            return queue.submit(opcode: FuseOpcode.setupMapping.rawValue, node: node, body: setup)
        }

        func removeMapping(windowOffset: UInt64) -> Int32 {
            var removal = FuseRemoveMappingIn()
            removal.count = 1
            var one = FuseRemoveMappingOne()
            one.moffset = windowOffset
            one.len = 2 << 20
            let body = withUnsafeBytes(of: removal) { Array($0) } + withUnsafeBytes(of: one) { Array($0) }
            return Self.error(queue.finish(queue.submit(opcode: FuseOpcode.removeMapping.rawValue, node: node, bytes: body)))
        }
    }

    /// QEMU's start-up for a new driver with fresh rings, then the driver's INIT and LOOKUP.
    static func newDriver(_ frontEnd: TestFrontEnd, call: Int32, kick: Int32,
                          protocolFeatures: UInt64 = VhostUserProtocolFeature.replyAck | VhostUserProtocolFeature.multiQueue) throws -> Driver {
        let guest = TestGuest()
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick, protocolFeatures: protocolFeatures)
        return try Driver(guest: guest, call: call, kick: kick)
    }

    static func resetDevice(_ frontEnd: TestFrontEnd) {
        frontEnd.send(.resetDevice, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag)
        #expect(frontEnd.receiveU64() == 0, "RESET_DEVICE acknowledged")
    }

    /// A write mapping of the file at window offset 2 MiB, and the guest's stores into it.
    static func mapAndStore(_ driver: Driver, _ file: WindowFile) {
        #expect(Driver.error(driver.queue.finish(driver.setupMapping(windowOffset: 2 << 20, writable: true))) == 0)
        let stored = Array("HELLO".utf8)
        for (i, byte) in stored.enumerated() { file.window.bytes[(2 << 20) + i] = byte }
    }

    @Test func resetDeviceWritesBackTheGuestsStoresAndForgetsItsMappings() throws {
        let file = try WindowFile()
        let share = try Share(slot: DaxMapperSlot(file.window))
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = TestFrontEnd(handler: share.server)
        defer { frontEnd.disconnect() }
        let driver = try Self.newDriver(frontEnd, call: call, kick: kick)
        Self.mapAndStore(driver, file)
        #expect(share.hostBytes == Self.original, "the stores stay in the window until something writes them back")

        Self.resetDevice(frontEnd)
        #expect(share.hostBytes == Array("HELLO, guest\n".utf8), "written back at the reset")

        // A new driver (after a reboot) starts with an empty window: nothing to remove there,
        // and the slot maps afresh.
        let next = try Self.newDriver(frontEnd, call: call, kick: kick)
        #expect(next.removeMapping(windowOffset: 2 << 20) == -EINVAL, "the old driver's mapping is forgotten")
        #expect(Driver.error(next.queue.finish(next.setupMapping(windowOffset: 2 << 20, writable: false))) == 0)
        #expect(file.window.bytes[2 << 20] == UInt8(ascii: "H"), "filled from the written-back file")
        #expect(next.removeMapping(windowOffset: 2 << 20) == 0)
    }

    @Test func aHangUpWritesBackTheGuestsStores() throws {
        let file = try WindowFile()
        let share = try Share(slot: DaxMapperSlot(file.window))
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = TestFrontEnd(handler: share.server)
        let driver = try Self.newDriver(frontEnd, call: call, kick: kick)
        Self.mapAndStore(driver, file)
        #expect(share.hostBytes == Self.original)

        frontEnd.disconnect() // returns once the back end has finished serving
        #expect(share.hostBytes == Array("HELLO, guest\n".utf8), "written back when the front end went away")
    }

    @Test func afterAResetShmemMappingsAreForgottenNotUnmapped() throws {
        let slot = DaxMapperSlot()
        let share = try Share(slot: slot)
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let (frontEnd, channel) = SharedMemoryDaxTests.connect(offer: .init(size: Self.windowSize, mappers: slot),
                                                               protocolFeatures: SharedMemoryDaxTests.shmemFeatures,
                                                               handler: share.server, guest: guest, call: call, kick: kick)
        defer { close(channel); frontEnd.disconnect() }
        let driver = try Driver(guest: guest, call: call, kick: kick)
        let mapping = driver.setupMapping(windowOffset: 2 << 20, writable: true)
        let map = try SharedMemoryDaxTests.receiveBackendRequest(channel)
        #expect(map.header.prefix(4) == [9, 0, 0, 0])
        SharedMemoryDaxTests.replyStatus(channel, request: 9, status: 0)
        #expect(Driver.error(driver.queue.finish(mapping)) == 0)

        // The front end unmaps its region across the reset: the back end sends no
        // SHMEM_UNMAP, then or when the next driver maps the same range.
        Self.resetDevice(frontEnd)
        let next = try Self.newDriver(frontEnd, call: call, kick: kick, protocolFeatures: SharedMemoryDaxTests.shmemFeatures)
        let again = next.setupMapping(windowOffset: 2 << 20, writable: false)
        let first = try SharedMemoryDaxTests.receiveBackendRequest(channel)
        #expect(first.header.prefix(4) == [9, 0, 0, 0], "the next request is the new SHMEM_MAP, not an UNMAP of the old mapping")
        #expect(first.payload == [UInt8](repeating: 0, count: 8) + SharedMemoryDaxTests.littleEndian([0, 2 << 20, 2 << 20, 0]))
        SharedMemoryDaxTests.replyStatus(channel, request: 9, status: 0)
        #expect(Driver.error(next.queue.finish(again)) == 0)
    }
}
