import Glibc
import SwiftFSProtocol
import Synchronization
@testable import VhostUser

/// A device that is not FUSE, to show the back end needs none: it answers a
/// request with the request's bytes reversed. A request whose first byte is
/// `blockingMark` may block: it waits until interrupted and then answers
/// `[interruptedMark]`. It keeps the back-end channels it is given.
///
/// @unchecked Sendable: `blocked` and `interruptions` are only touched under
/// `monitor`; `channels` is a Mutex.
final class ReversingDevice: VirtioDeviceHandler, @unchecked Sendable {
    static let blockingMark: UInt8 = 0xff
    static let interruptedMark: UInt8 = 0xee

    /// The request's first byte, copied once: what `mayBlock` decides from.
    struct Head: Sendable {
        let first: UInt8?
    }

    let sharedMemoryRegions: [UInt64]
    let channels = Mutex<[VhostUserBackendChannel]>([])
    private let monitor = Monitor()
    private var blocked = 0
    private var interruptions = 0

    init(sharedMemoryRegions: [UInt64] = []) { self.sharedMemoryRegions = sharedMemoryRegions }

    func readHead(_ readable: UnsafeBufferPointer<iovec>) -> Head {
        let first = readable.first { $0.iov_len > 0 }
        return Head(first: first.map { $0.iov_base!.load(as: UInt8.self) })
    }

    func mayBlock(_ head: Head) -> Bool { head.first == Self.blockingMark }

    func handle(head: Head, readable: UnsafeBufferPointer<iovec>, writable: UnsafeBufferPointer<iovec>) -> Int {
        var reply: [UInt8]
        if mayBlock(head) {
            monitor.withLock {
                let seen = interruptions
                blocked += 1
                monitor.broadcast()
                while interruptions == seen { monitor.wait() }
                blocked -= 1
            }
            reply = [Self.interruptedMark]
        } else {
            reply = []
            for segment in readable { reply += UnsafeRawBufferPointer(start: segment.iov_base, count: segment.iov_len) }
            reply.reverse()
        }
        var written = 0
        for segment in writable where written < reply.count {
            let count = min(segment.iov_len, reply.count - written)
            reply[written..<(written + count)].withUnsafeBytes { segment.iov_base!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            written += count
        }
        return written
    }

    func interruptBlockedRequests() {
        monitor.withLock {
            interruptions += 1
            monitor.broadcast()
        }
    }

    func sharedMemoryChannelOpened(_ channel: VhostUserBackendChannel) {
        channels.withLock { $0.append(channel) }
    }

    /// Waits (at most about 5 s) until a request is blocked; returns whether one is.
    func waitUntilBlocked() -> Bool {
        monitor.withLock {
            for _ in 0..<100 where blocked == 0 { monitor.wait(milliseconds: 50) }
            return blocked > 0
        }
    }
}

extension TestGuest {
    /// Places `bytes` in chain `head` (a readable descriptor, then 0x1000
    /// writable bytes), asks for an interrupt when it is used, and offers it.
    func offerRequest(_ bytes: [UInt8], head: Int) {
        let request = TestGuest.buffers + UInt64(head) * 0x2000
        bytes.withUnsafeBytes { (self.bytes + Int(request)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        setDescriptor(head, address: request, length: UInt32(bytes.count), flags: VirtqDescriptor.flagNext, next: UInt16(head + 1))
        setDescriptor(head + 1, address: request + 0x1000, length: 0x1000, flags: VirtqDescriptor.flagWrite)
        setUsedEvent(usedIndex)
        offer(UInt16(head))
    }

    /// The reply in chain `head`, once the used ring holds it.
    func reply(head: Int) -> [UInt8]? {
        for i in (0..<Int(usedIndex)).reversed() where usedElement(i).id == UInt32(head) {
            let start = Int(TestGuest.buffers) + head * 0x2000 + 0x1000
            return Array(UnsafeRawBufferPointer(start: bytes + start, count: Int(usedElement(i).length)))
        }
        return nil
    }
}
