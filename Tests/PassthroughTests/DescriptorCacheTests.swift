import CShim
import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Synchronization
import SystemSupport
import Testing

/// The bounded cache of shim_O_PATH descriptors behind inodes named by file handles.
@Suite struct DescriptorCacheTests {
    /// A new shim_O_PATH descriptor of "/" (any file would do).
    static func openSomething() throws(Errno) -> OwnedDescriptor {
        let fd = open("/", shim_O_PATH | O_CLOEXEC)
        if fd < 0 { throw Errno.current }
        return OwnedDescriptor(fd)
    }

    static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

    @Test func neverHoldsMoreThanItsCapacity() throws {
        let cache = DescriptorCache(capacity: 4)
        let slots = (0..<10).map { _ in DescriptorSlot() }
        for slot in slots { _ = try cache.borrow(slot, open: Self.openSomething) }
        #expect(cache.openCount == 4)
        #expect(slots.filter(\.isOpen).count == 4)
        // The newest stay: the oldest were evicted to make room.
        let newestOpen = slots[6...].allSatisfy { $0.isOpen }
        #expect(newestOpen)
    }

    @Test func aHitReusesTheDescriptorWithoutOpening() throws {
        let cache = DescriptorCache(capacity: 2)
        let slot = DescriptorSlot()
        var opens = 0
        let open = { () throws(Errno) -> OwnedDescriptor in opens += 1; return try Self.openSomething() }
        let first = try cache.borrow(slot, open: open)
        let second = try cache.borrow(slot, open: open)
        #expect(first === second)
        #expect(opens == 1)
    }

    @Test func anEvictedDescriptorIsClosedAndReopenedOnDemand() throws {
        let cache = DescriptorCache(capacity: 1)
        let a = DescriptorSlot(), b = DescriptorSlot()
        weak var evicted: PathDescriptor?
        var fd: Int32 = -1
        do {
            let descriptor = try cache.borrow(a, open: Self.openSomething)
            evicted = descriptor
            fd = descriptor.fd
        }
        _ = try cache.borrow(b, open: Self.openSomething)
        #expect(!a.isOpen && b.isOpen)
        #expect(evicted == nil) // released, so closed
        var opens = 0
        let reopened = try cache.borrow(a) { () throws(Errno) -> OwnedDescriptor in opens += 1; return try Self.openSomething() }
        #expect(opens == 1 && Self.isOpen(reopened.fd))
        #expect(cache.openCount == 1)
        _ = fd
    }

    @Test func aBorrowedDescriptorSurvivesEvictionUntilReturned() throws {
        let cache = DescriptorCache(capacity: 2)
        let held = DescriptorSlot()
        var borrowed: PathDescriptor? = try cache.borrow(held, open: Self.openSomething)
        weak let watch = borrowed
        let fd = borrowed!.fd
        for _ in 0..<5 { _ = try cache.borrow(DescriptorSlot(), open: Self.openSomething) }
        #expect(!held.isOpen)          // evicted from the cache...
        #expect(Self.isOpen(fd))       // ...but still open for its borrower
        #expect(watch != nil)
        borrowed = nil                 // returned: now it closes
        #expect(watch == nil)
        #expect(cache.openCount == 2)
    }

    @Test func aDescriptorUsedSinceTheHandPassedIsSpared() throws {
        let cache = DescriptorCache(capacity: 3)
        let a = DescriptorSlot(), b = DescriptorSlot(), c = DescriptorSlot(), d = DescriptorSlot(), e = DescriptorSlot()
        for slot in [a, b, c, d] { _ = try cache.borrow(slot, open: Self.openSomething) }
        // d's arrival cleared every use bit and evicted a, the oldest.
        #expect(!a.isOpen && b.isOpen && c.isOpen && d.isOpen)
        _ = try cache.borrow(b, open: Self.openSomething) // b used again
        _ = try cache.borrow(e, open: Self.openSomething)
        #expect(b.isOpen && !c.isOpen && d.isOpen && e.isOpen)
    }

    @Test func discardFreesTheSlotsPlace() throws {
        let cache = DescriptorCache(capacity: 2)
        let a = DescriptorSlot(), b = DescriptorSlot(), c = DescriptorSlot()
        _ = try cache.borrow(a, open: Self.openSomething)
        _ = try cache.borrow(b, open: Self.openSomething)
        cache.discard(a)
        #expect(!a.isOpen && cache.openCount == 1)
        _ = try cache.borrow(c, open: Self.openSomething)
        #expect(b.isOpen && c.isOpen && cache.openCount == 2) // took a's place, evicted nobody
        cache.discard(a) // twice is harmless
        #expect(cache.openCount == 2)
    }

    @Test func aFailedOpenLeavesTheSlotEmpty() throws {
        let cache = DescriptorCache(capacity: 2)
        let slot = DescriptorSlot()
        #expect(throws: Errno(ESTALE)) { try cache.borrow(slot) { () throws(Errno) -> OwnedDescriptor in throw Errno(ESTALE) } }
        #expect(!slot.isOpen && cache.openCount == 0)
    }

    @Test func concurrentBorrowersAlwaysGetOpenDescriptors() throws {
        let cache = DescriptorCache(capacity: 8)
        let slots = (0..<64).map { _ in DescriptorSlot() }
        let failures = Atomic<Int>(0)
        NativeThread.runAll(count: 8) { worker in
            var state = UInt64(worker + 1)
            for _ in 0..<4000 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let slot = slots[Int(state >> 58)]
                do {
                    let descriptor = try cache.borrow(slot, open: Self.openSomething)
                    var st = stat()
                    if fstat(descriptor.fd, &st) != 0 { failures.add(1, ordering: .relaxed) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(cache.openCount <= 8)
        #expect(slots.filter(\.isOpen).count == cache.openCount)
    }

    /// A new O_PATH descriptor of /dev/shm (tmpfs: it has file handles).
    static func openHandled() throws(Errno) -> OwnedDescriptor {
        let fd = open("/dev/shm", shim_O_PATH | O_CLOEXEC)
        if fd < 0 { throw Errno.current }
        return OwnedDescriptor(fd)
    }

    @Test func aSlotWhoseHandleCannotStandInStaysOpenOutsideTheCount() throws {
        let cache = DescriptorCache(capacity: 2)
        let probe = try Self.openHandled()
        let mount = try KernelFileHandle.of(probe.rawValue).mountID
        // A handle on another mount than the slot's cannot stand in for the descriptor.
        let keptOwned = try Self.openHandled()
        let keptFD = keptOwned.rawValue
        let kept = DescriptorSlot(handle: nil, mount: mount &+ 1, holding: PathDescriptor(keptOwned))
        let closed = DescriptorSlot(handle: nil, mount: mount, holding: PathDescriptor(try Self.openHandled()))
        cache.admit(kept)
        cache.admit(closed)
        let others = (0..<4).map { _ in DescriptorSlot() }
        for slot in others { _ = try cache.borrow(slot, open: Self.openSomething) }
        #expect(kept.isOpen && Self.isOpen(keptFD), "kept for good")
        #expect(!closed.isOpen && closed.handle != nil, "its handle taken before the close")
        #expect(kept.handle == nil)
        #expect(cache.openCount == 2 && others.filter(\.isOpen).count == 2)
        // Still served from the slot without opening.
        var opens = 0
        _ = try cache.borrow(kept) { () throws(Errno) -> OwnedDescriptor in opens += 1; return try Self.openSomething() }
        #expect(opens == 0)
        cache.discard(kept)
        #expect(!kept.isOpen && !Self.isOpen(keptFD))
        #expect(cache.openCount == 2)
    }

    @Test func anAdmittedSlotCountsLikeAnInstalledOne() throws {
        let cache = DescriptorCache(capacity: 2)
        let probe = try Self.openHandled()
        let mount = try KernelFileHandle.of(probe.rawValue).mountID
        let slots = try (0..<3).map { _ throws(Errno) in
            DescriptorSlot(handle: nil, mount: mount, holding: PathDescriptor(try Self.openHandled()))
        }
        #expect(slots.allSatisfy(\.isOpen) && cache.openCount == 0, "held, not yet counted")
        for slot in slots { cache.admit(slot) }
        #expect(cache.openCount == 2 && slots.filter(\.isOpen).count == 2)
        #expect(!slots[0].isOpen && slots[0].handle != nil, "the oldest evicted, its handle taken")
        for slot in slots { cache.discard(slot) }
        #expect(cache.openCount == 0)
    }
}
