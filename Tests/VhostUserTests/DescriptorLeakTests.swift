import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Every descriptor the front end passes is closed by the back end by the end
/// of the session, whatever was wrong with the message that carried it, and
/// whatever the session did with it (replaced, reset, disconnected mid-way).
/// Other tests open descriptors in this process at the same time, so instead
/// of comparing counts, each descriptor sent has an inode of its own (a memfd
/// for memory, a pipe standing in for an eventfd, which all share one inode),
/// and the check is that no entry of /proc/self/fd still refers to one of them
/// (and, for guest memory, that no mapping of it is left).
@Suite struct DescriptorLeakTests {
    /// A fresh memfd (one page), and its inode.
    private static func memfd(size: Int = 4096) -> (fd: Int32, inode: UInt64) {
        let fd = shim_memfd_create("leak-test", 0)
        precondition(fd >= 0 && ftruncate(fd, off_t(size)) == 0)
        return (fd, inode(fd))
    }

    private static func inode(_ fd: Int32) -> UInt64 {
        var status = stat()
        precondition(fstat(fd, &status) == 0)
        return UInt64(status.st_ino)
    }

    /// A pipe in place of an eventfd: the back end only polls, reads and writes
    /// 8-byte counts, which a pipe carries the same way.
    final class Notifier {
        let readEnd: Int32, writeEnd: Int32, inode: UInt64
        init() {
            var ends: [Int32] = [0, 0]
            precondition(pipe(&ends) == 0)
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            (readEnd, writeEnd) = (ends[0], ends[1])
            inode = DescriptorLeakTests.inode(readEnd)
        }
        func signal() { EventNotifier.signal(writeEnd) }
        /// Waits (at most 5 s) for a signal and consumes all that came.
        func wait() -> Bool {
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 5000) == 1 else { return false }
            var buffer = [UInt8](repeating: 0, count: 4096)
            return read(readEnd, &buffer, buffer.count) > 0
        }
        deinit { close(readEnd); close(writeEnd) }
    }

    /// The inodes among `inodes` that an entry of /proc/self/fd still refers to
    /// (a memfd or a pipe: the kinds this suite sends).
    private static func stillOpen(_ inodes: Set<UInt64>) -> Set<UInt64> {
        var found = Set<UInt64>()
        guard let directory = opendir("/proc/self/fd") else { return inodes }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var status = stat()
            if fstat(fd, &status) == 0, inodes.contains(UInt64(status.st_ino)) {
                var link = [UInt8](repeating: 0, count: 256)
                let length = readlink("/proc/self/fd/\(fd)", &link, link.count - 1)
                let target = String(decoding: link.prefix(max(0, length)), as: UTF8.self)
                if target.hasPrefix("/memfd:") || target.hasPrefix("pipe:") { found.insert(UInt64(status.st_ino)) }
            }
        }
        return found
    }

    /// The inodes among `inodes` of memfds this process still maps.
    private static func stillMapped(_ inodes: Set<UInt64>) -> Set<UInt64> {
        guard let maps = fopen("/proc/self/maps", "r") else { return inodes }
        defer { fclose(maps) }
        var found = Set<UInt64>()
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), maps) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/memfd:"), let inode = UInt64(fields[4]),
                  inodes.contains(inode) else { continue }
            found.insert(inode)
        }
        return found
    }

    private static func bytes<T: WireRecord>(_ value: T) -> [UInt8] {
        var copy = value
        return withUnsafeBytes(of: &copy) { Array($0) }
    }

    @Test func malformedMessagesLeaveNoDescriptorOpen() {
        var sent = Set<UInt64>()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        let ask = VhostUserHeader.version | VhostUserHeader.needReplyFlag

        /// Sends `request` with `count` fresh memfds and waits for the reply.
        func send(_ request: VhostUserRequest, payload: [UInt8], descriptors count: Int) {
            let fds = (0..<count).map { _ in Self.memfd() }
            sent.formUnion(fds.map(\.inode))
            frontEnd.send(request, flags: ask, payload: payload, fds: fds.map(\.fd))
            for fd in fds { close(fd.fd) }
            let (header, _) = frontEnd.receive()
            #expect(header.request == request.rawValue, "\(request)")
        }

        var oneRegion = VhostUserMemoryTableHeader()
        oneRegion.regionCount = 1
        var region = VhostUserMemoryRegionDescription()
        region.guestPhysicalAddress = 0; region.memorySize = 4096; region.userAddress = 0x1000
        let tableOfOne = Self.bytes(oneRegion) + Self.bytes(region)
        var nineRegions = VhostUserMemoryTableHeader()
        nineRegions.regionCount = 9

        // A kick descriptor too many, one missing, and a payload too short.
        send(.setVringKick, payload: Self.bytes(VhostUserU64(0)), descriptors: 2)
        send(.setVringCall, payload: Self.bytes(VhostUserU64(0)), descriptors: 3)
        send(.setVringErr, payload: [1, 2], descriptors: 1)
        // SET_MEM_TABLE: more descriptors than regions, more regions than allowed, more descriptors than a message may carry.
        send(.setMemTable, payload: tableOfOne, descriptors: 3)
        send(.setMemTable, payload: Self.bytes(nineRegions), descriptors: 8)
        send(.setMemTable, payload: tableOfOne, descriptors: 12)
        // A valid table whose region is then replaced by a malformed one (payload cut short).
        send(.setMemTable, payload: tableOfOne, descriptors: 1)
        send(.setMemTable, payload: Array(tableOfOne.prefix(20)), descriptors: 1)
        // ADD_MEM_REG with a bad payload, with two descriptors; a back-end channel with two.
        send(.addMemReg, payload: [0, 0, 0], descriptors: 1)
        send(.addMemReg, payload: Self.bytes(VhostUserU64(0)) + Self.bytes(region), descriptors: 2)
        send(.setBackendReqFd, payload: [], descriptors: 2)
        // Requests that take no descriptors at all.
        send(.getFeatures, payload: [], descriptors: 2)
        send(.setVringNum, payload: [9], descriptors: 1)
        // Valid descriptors kept by the back end until the session ends.
        send(.setVringKick, payload: Self.bytes(VhostUserU64(1)), descriptors: 1)
        send(.setVringCall, payload: Self.bytes(VhostUserU64(1)), descriptors: 1)
        send(.setBackendReqFd, payload: [], descriptors: 1)
        frontEnd.disconnect()

        #expect(sent.count > 30)
        #expect(Self.stillOpen(sent).isEmpty, "descriptors left open: \(Self.stillOpen(sent).count)")
    }

    /// A memory table of one region covering `guest`, for SET_MEM_TABLE.
    private static func memoryTable(_ guest: TestGuest) -> [UInt8] {
        var header = VhostUserMemoryTableHeader()
        header.regionCount = 1
        var region = VhostUserMemoryRegionDescription()
        region.guestPhysicalAddress = 0
        region.memorySize = UInt64(TestGuest.size)
        region.userAddress = TestGuest.userBase
        return bytes(header) + bytes(region)
    }

    /// Drops the test's own ends of `notifier`: then only the back end can still hold its inode.
    private static func isClosedByTheBackEnd(_ notifier: inout Notifier?) -> Bool {
        let inode = notifier!.inode
        notifier = nil
        return stillOpen([inode]).isEmpty
    }

    @Test func aRunningQueueClosesEachDescriptorWhenReplacedAndTheRestOnReset() throws {
        var notifiers = Set<UInt64>()
        var memory = Set<UInt64>()
        do {
            let guest = TestGuest()
            memory.insert(Self.inode(guest.fd))
            let frontEnd = TestFrontEnd(device: ReversingDevice())
            defer { frontEnd.disconnect() }
            func make() -> Notifier? {
                let notifier = Notifier()
                notifiers.insert(notifier.inode)
                return notifier
            }
            var kick = make(), call = make()
            frontEnd.setUp(guest: guest, queue: 0, callFd: call!.writeEnd, kickFd: kick!.readEnd)
            var head = 0
            /// One request through the ring: the current kick and call descriptors are the ones in use.
            func serveOne() {
                guest.offerRequest([1, 2, UInt8(head)], head: head)
                kick!.signal()
                #expect(call!.wait(), "interrupt for chain \(head)")
                #expect(guest.reply(head: head) == [UInt8(head), 2, 1])
                head += 2
            }
            serveOne()

            // SET_VRING_CALL while running: the old one is closed by the time the front end has the ack.
            var newCall = make()
            frontEnd.send(.setVringCall, VhostUserU64(0), needReply: true, fds: [newCall!.writeEnd])
            #expect(frontEnd.receiveU64() == 0)
            swap(&call, &newCall)
            #expect(Self.isClosedByTheBackEnd(&newCall), "replaced call descriptor")
            #expect(call!.wait(), "a new call descriptor is signalled once (QEMU may have missed one)")
            serveOne()

            // SET_VRING_ERR twice while running.
            var firstErr = make(), secondErr = make()
            frontEnd.send(.setVringErr, VhostUserU64(0), needReply: true, fds: [firstErr!.writeEnd])
            #expect(frontEnd.receiveU64() == 0)
            frontEnd.send(.setVringErr, VhostUserU64(0), needReply: true, fds: [secondErr!.writeEnd])
            #expect(frontEnd.receiveU64() == 0)
            #expect(Self.isClosedByTheBackEnd(&firstErr), "replaced error descriptor")

            // SET_VRING_KICK restarts the queue with the new one.
            var newKick = make()
            frontEnd.send(.setVringKick, VhostUserU64(0), needReply: true, fds: [newKick!.readEnd])
            #expect(frontEnd.receiveU64() == 0)
            swap(&kick, &newKick)
            #expect(Self.isClosedByTheBackEnd(&newKick), "replaced kick descriptor")
            serveOne()

            // A new memory table while running, then a region added and removed.
            frontEnd.send(.setMemTable, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag,
                          payload: Self.memoryTable(guest), fds: [guest.fd])
            #expect(frontEnd.receiveU64() == 0)
            serveOne()
            let extra = Self.memfd(size: 0x10000)
            memory.insert(extra.inode)
            var single = VhostUserSingleMemoryRegion()
            single.region.guestPhysicalAddress = UInt64(TestGuest.size)
            single.region.memorySize = 0x10000
            single.region.userAddress = TestGuest.userBase + UInt64(TestGuest.size)
            frontEnd.send(.addMemReg, single, needReply: true, fds: [extra.fd])
            close(extra.fd)
            #expect(frontEnd.receiveU64() == 0)
            frontEnd.send(.remMemReg, single, needReply: true)
            #expect(frontEnd.receiveU64() == 0)
            #expect(Self.stillOpen([extra.inode]).isEmpty, "removed region's descriptor")
            serveOne()

            // GET_VRING_BASE stops the ring and closes its kick descriptor; a new kick starts it again.
            frontEnd.send(.getVringBase, VhostUserVringState(index: 0, num: 0))
            #expect(frontEnd.receive().1 == Self.bytes(VhostUserVringState(index: 0, num: UInt32(head / 2))))
            #expect(Self.isClosedByTheBackEnd(&kick), "kick descriptor of a stopped ring")
            kick = make()
            frontEnd.send(.setVringKick, VhostUserU64(0), needReply: true, fds: [kick!.readEnd])
            #expect(frontEnd.receiveU64() == 0)
            serveOne()

            // RESET_DEVICE closes all three.
            frontEnd.send(.resetDevice, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag)
            #expect(frontEnd.receiveU64() == 0)
            #expect(Self.isClosedByTheBackEnd(&kick) && Self.isClosedByTheBackEnd(&call) && Self.isClosedByTheBackEnd(&secondErr),
                    "descriptors of a reset device")
        }
        #expect(Self.stillOpen(notifiers.union(memory)).isEmpty, "left open: \(Self.stillOpen(notifiers.union(memory)))")
        #expect(Self.stillMapped(memory).isEmpty, "guest memory still mapped")
    }

    /// The front end hangs up in the middle of a message (which carries a
    /// descriptor) while a request is blocked: everything is closed and unmapped.
    @Test(arguments: [0, 2]) func hangingUpMidMessageWithARequestBlockedLeavesNothingOpen(threadPoolSize: Int) throws {
        var sent = Set<UInt64>()
        var memory = Set<UInt64>()
        do {
            let guest = TestGuest()
            memory.insert(Self.inode(guest.fd))
            let device = ReversingDevice()
            let frontEnd = TestFrontEnd(device: device, threadPoolSize: threadPoolSize)
            let kick = Notifier(), call = Notifier(), err = Notifier()
            sent.formUnion([kick.inode, call.inode, err.inode])
            frontEnd.setUp(guest: guest, queue: 0, callFd: call.writeEnd, kickFd: kick.readEnd)
            frontEnd.send(.setVringErr, VhostUserU64(0), fds: [err.writeEnd])
            guest.offerRequest([ReversingDevice.blockingMark], head: 0)
            kick.signal()
            #expect(device.waitUntilBlocked())

            // Half a SET_MEM_TABLE: a header promising 40 bytes, 8 of them, and a descriptor.
            let region = Self.memfd()
            sent.insert(region.inode)
            let header = VhostUserHeader(request: VhostUserRequest.setMemTable.rawValue, flags: VhostUserHeader.version, size: 40)
            frontEnd.sendRaw(Self.bytes(header) + [1, 0, 0, 0, 0, 0, 0, 0], fds: [region.fd])
            close(region.fd)
            frontEnd.disconnect()
            #expect(guest.reply(head: 0) == [ReversingDevice.interruptedMark], "the blocked request ended when the back end went")
        }
        #expect(Self.stillOpen(sent.union(memory)).isEmpty, "left open: \(Self.stillOpen(sent.union(memory)))")
        #expect(Self.stillMapped(memory).isEmpty, "guest memory still mapped")
    }
}
