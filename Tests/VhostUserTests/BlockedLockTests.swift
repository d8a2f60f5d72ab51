import Glibc
import Logging
import Passthrough
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Issue 6, finding 5: GET_VRING_BASE (VM stop, reset, migration) must not
/// wait for a SETLKW that waits for a lock: stopping the queue interrupts it
/// (EINTR) and QEMU gets its answer at once instead of after the wait limit.
@Suite(.serialized) struct BlockedLockTests {
    let next = VirtqDescriptor.flagNext, write = VirtqDescriptor.flagWrite

    /// Places a request in chain `head` (request buffer, then a reply buffer) and kicks, without waiting.
    func submit(_ guest: TestGuest, kick: Int32, head: Int, opcode: FuseOpcode, node: UInt64, unique: UInt64, body: [UInt8]) {
        let request = TestGuest.buffers + UInt64(head) * 0x4000
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + body.count)
        header.opcode = opcode.rawValue
        header.unique = unique
        header.nodeID = node
        guest.write(header, at: request)
        body.withUnsafeBytes { (guest.bytes + Int(request) + FuseInHeader.wireSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        guest.setDescriptor(head, address: request, length: UInt32(FuseInHeader.wireSize + body.count), flags: next, next: UInt16(head + 1))
        guest.setDescriptor(head + 1, address: request + 0x1000, length: 0x3000, flags: write)
        guest.offer(UInt16(head))
        EventNotifier.signal(kick)
    }

    /// The reply in chain `head`, once the used ring holds it.
    func reply(_ guest: TestGuest, head: Int) -> (FuseOutHeader, [UInt8])? {
        for i in 0..<Int(guest.usedIndex) where guest.usedElement(i).id == UInt32(head) {
            let length = Int(guest.usedElement(i).length)
            let start = Int(TestGuest.buffers) + head * 0x4000 + 0x1000
            let bytes = Array(UnsafeRawBufferPointer(start: guest.bytes + start, count: length))
            guard length >= FuseOutHeader.wireSize else { return nil }
            return (bytes.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }, Array(bytes.dropFirst(FuseOutHeader.wireSize)))
        }
        return nil
    }

    /// Submits and waits (bounded) for the reply.
    func call(_ guest: TestGuest, kick: Int32, call: Int32, head: Int, _ opcode: FuseOpcode, node: UInt64 = 1,
              unique: UInt64, body: [UInt8]) throws -> (FuseOutHeader, [UInt8]) {
        guest.setUsedEvent(guest.usedIndex)
        submit(guest, kick: kick, head: head, opcode: opcode, node: node, unique: unique, body: body)
        #expect(waitForEvent(call))
        return try #require(reply(guest, head: head))
    }

    func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    @Test func getVringBaseInterruptsAWaitingSetlkwAndAnswersAtOnce() throws {
        let share = try PassthroughOverVirtqueueTests.makeShare()
        defer { PassthroughOverVirtqueueTests.removeShare(share) }
        var logger = Logger(label: "test.locks")
        logger.logLevel = .critical
        // The daemon's default limit: a SETLKW waits up to 60 s for its lock.
        let server = try makePassthroughServer(options: PassthroughOptions(sharedDir: share), logger: logger)
        let guest = TestGuest()
        let callFd = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(callFd); close(kick) }
        let frontEnd = TestFrontEnd(handler: server)
        defer { frontEnd.disconnect() }
        frontEnd.setUp(guest: guest, queue: 1, callFd: callFd, kickFd: kick)

        var initIn = FuseInitIn()
        initIn.major = 7; initIn.minor = 38; initIn.flags = UInt32(truncatingIfNeeded: FuseInitFlags.posixLocks.rawValue)
        _ = try call(guest, kick: kick, call: callFd, head: 0, .`init`, node: 0, unique: 1, body: bytes(initIn))
        let (lookup, entryBytes) = try call(guest, kick: kick, call: callFd, head: 2, .lookup, unique: 2, body: Array("hello".utf8) + [0])
        try #require(lookup.error == 0)
        let node = entryBytes.withUnsafeBytes { $0.loadUnaligned(as: FuseEntryOut.self) }.nodeID
        var openIn = FuseOpenIn()
        openIn.flags = LinuxOpenFlags.readWrite
        let (opened, openBytes) = try call(guest, kick: kick, call: callFd, head: 4, .open, node: node, unique: 3, body: bytes(openIn))
        try #require(opened.error == 0)
        let fh = openBytes.withUnsafeBytes { $0.loadUnaligned(as: FuseOpenOut.self) }.fh

        var lock = FuseLkIn()
        lock.fh = fh
        lock.owner = 1
        lock.lock.type = UInt32(F_WRLCK)
        lock.lock.end = UInt64.max
        let (held, _) = try call(guest, kick: kick, call: callFd, head: 6, .setlk, node: node, unique: 4, body: bytes(lock))
        try #require(held.error == 0)
        // Another owner's SETLKW must wait for that lock.
        lock.owner = 2
        submit(guest, kick: kick, head: 8, opcode: .setlkw, node: node, unique: 5, body: bytes(lock))
        // Requests are taken in order: once this one is answered, the SETLKW is in flight.
        _ = try call(guest, kick: kick, call: callFd, head: 10, .getattr, node: node, unique: 6, body: bytes(FuseGetattrIn()))
        #expect(reply(guest, head: 8) == nil, "the SETLKW is still waiting")

        frontEnd.send(.getVringBase, VhostUserVringState(index: 1, num: 0))
        var answer = pollfd(fd: frontEnd.fd, events: Int16(POLLIN), revents: 0)
        // A generous deadline, far below the 60 s the SETLKW would otherwise hold QEMU.
        try #require(poll(&answer, 1, 10_000) == 1, "GET_VRING_BASE not answered while a SETLKW waits")
        let (_, payload) = frontEnd.receive()
        #expect(payload.withUnsafeBytes { $0.loadUnaligned(as: VhostUserVringState.self) }.num == 6)
        let (interrupted, _) = try #require(reply(guest, head: 8), "the SETLKW chain was returned")
        #expect(interrupted.unique == 5 && interrupted.error == -EINTR)
    }
}
