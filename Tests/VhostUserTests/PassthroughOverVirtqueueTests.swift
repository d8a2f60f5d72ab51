import Glibc
import Logging
import Passthrough
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// The real peer: the FUSE server over the passthrough filesystem of a temp
/// directory, driven through guest memory and the vhost-user socket.
@Suite(.serialized) struct PassthroughOverVirtqueueTests {
    let next = VirtqDescriptor.flagNext, write = VirtqDescriptor.flagWrite

    /// A share with one file, "hello", holding "hello, guest\n".
    static func makeShare() throws -> String {
        var template = Array("/tmp/swiftfs-vhost-test.XXXXXX".utf8CString)
        let path = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let fd = open(path + "/hello", O_CREAT | O_WRONLY, 0o644)
        _ = "hello, guest\n".withCString { Glibc.write(fd, $0, 13) }
        close(fd)
        return path
    }

    static func removeShare(_ path: String) {
        unlink(path + "/hello")
        rmdir(path)
    }

    /// Runs one request through chain `head`: `body` bytes after a fuse_in_header; returns the reply bytes.
    func roundTrip(_ guest: TestGuest, kick: Int32, call: Int32, head: Int, opcode: UInt32, node: UInt64,
                   unique: UInt64, body: [UInt8], headerLength: UInt32? = nil) -> [UInt8] {
        let request = TestGuest.buffers + UInt64(head) * 0x4000
        let replyAddress = request + 0x1000
        var header = FuseInHeader()
        header.len = headerLength ?? UInt32(FuseInHeader.wireSize + body.count)
        header.opcode = opcode
        header.unique = unique
        header.nodeID = node
        guest.write(header, at: request)
        body.withUnsafeBytes { (guest.bytes + Int(request) + FuseInHeader.wireSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        guest.setDescriptor(head, address: request, length: UInt32(FuseInHeader.wireSize + body.count), flags: next, next: UInt16(head + 1))
        guest.setDescriptor(head + 1, address: replyAddress, length: 0x3000, flags: write)
        let before = guest.usedIndex
        // As a driver with EVENT_IDX does: interrupt me when the next entry is used.
        guest.setUsedEvent(before)
        guest.offer(UInt16(head))
        EventNotifier.signal(kick)
        #expect(waitForEvent(call))
        #expect(guest.usedIndex == before &+ 1)
        let used = guest.usedElement(Int(before))
        return Array(UnsafeRawBufferPointer(start: guest.bytes + Int(replyAddress), count: Int(used.length)))
    }

    @Test func initThenLookupThroughThePassthroughServer() throws {
        let share = try Self.makeShare()
        defer { Self.removeShare(share) }
        var logger = Logger(label: "test.passthrough")
        logger.logLevel = .critical
        let server = try makePassthroughServer(options: PassthroughOptions(sharedDir: share), logger: logger)
        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = TestFrontEnd(handler: server, threadPoolSize: 2)
        defer { frontEnd.disconnect() }
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)

        var initIn = FuseInitIn()
        initIn.major = 7; initIn.minor = 38; initIn.maxReadahead = 1 << 17
        let initReply = roundTrip(guest, kick: kick, call: call, head: 0, opcode: FuseOpcode.`init`.rawValue, node: 0,
                                  unique: 1, body: withUnsafeBytes(of: &initIn) { Array($0) })
        try #require(initReply.count >= FuseOutHeader.wireSize + 8)
        let initOut = initReply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseInitOut.self) }
        #expect(initReply.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error == 0)
        #expect(initOut.major == 7)

        let lookupReply = roundTrip(guest, kick: kick, call: call, head: 2, opcode: FuseOpcode.lookup.rawValue, node: 1,
                                    unique: 2, body: Array("hello".utf8) + [0])
        try #require(lookupReply.count == FuseOutHeader.wireSize + FuseEntryOut.wireSize)
        let entry = lookupReply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseEntryOut.self) }
        #expect(entry.attr.size == 13)

        // A request whose header claims more bytes than the chain holds: an error reply, and serving goes on.
        let bad = roundTrip(guest, kick: kick, call: call, head: 4, opcode: FuseOpcode.getattr.rawValue, node: 1,
                            unique: 3, body: [], headerLength: 4096)
        let badHeader = bad.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }
        #expect(badHeader.unique == 3 && badHeader.error == -EINVAL)
        let again = roundTrip(guest, kick: kick, call: call, head: 6, opcode: FuseOpcode.lookup.rawValue, node: 1,
                              unique: 4, body: Array("hello".utf8) + [0])
        #expect(again.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error == 0)
    }
}
