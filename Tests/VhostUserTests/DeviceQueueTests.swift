import SwiftFSProtocol
import Testing
@testable import VhostUser

/// The available and used rings, and when the driver gets an interrupt.
@Suite struct DeviceQueueTests {
    let guest = TestGuest(queueSize: 8)
    /// Kept for the suite's lifetime: the ring pointers point into its mapping.
    let memory: GuestMemory

    init() throws { memory = try guest.memory() }

    func queue(eventIndex: Bool, base: UInt16 = 0) throws -> DeviceQueue {
        DeviceQueue(size: 8, rings: try guest.rings(memory), lastAvailableIndex: base, eventIndex: eventIndex)
    }

    @Test func popsOfferedHeadsInOrder() throws {
        var queue = try queue(eventIndex: false)
        #expect(try queue.popAvailable() == nil)
        guest.offer(5); guest.offer(2)
        #expect(try queue.popAvailable() == 5)
        #expect(try queue.popAvailable() == 2)
        #expect(try queue.popAvailable() == nil)
        #expect(queue.lastAvailableIndex == 2)
    }

    @Test func wrapsAroundTheSixteenBitIndex() throws {
        (guest.bytes + Int(TestGuest.availableRing)).storeBytes(of: UInt16(0xffff), toByteOffset: 2, as: UInt16.self)
        var queue = try queue(eventIndex: false, base: 0xffff)
        guest.offer(3)
        #expect(try queue.popAvailable() == 3)
        #expect(queue.lastAvailableIndex == 0)
    }

    @Test func refusesAnAvailableIndexMoreThanAQueueAhead() throws {
        var queue = try queue(eventIndex: false)
        (guest.bytes + Int(TestGuest.availableRing)).storeBytes(of: UInt16(9), toByteOffset: 2, as: UInt16.self)
        #expect(throws: DeviceQueueError.availableIndexJumped(from: 0, to: 9)) { try queue.popAvailable() }
    }

    @Test func refusesAHeadOutsideTheTable() throws {
        var queue = try queue(eventIndex: false)
        guest.offer(8)
        #expect(throws: DeviceQueueError.headOutOfRange(8)) { try queue.popAvailable() }
    }

    @Test func publishesUsedElementsThenTheIndex() throws {
        var queue = try queue(eventIndex: false)
        queue.pushUsed(head: 4, length: 80)
        queue.pushUsed(head: 1, length: 0)
        #expect(guest.usedIndex == 2)
        #expect(guest.usedElement(0).id == 4 && guest.usedElement(0).length == 80)
        #expect(guest.usedElement(1).id == 1 && guest.usedElement(1).length == 0)
    }

    @Test func resumesFromTheUsedIndexInGuestMemory() throws {
        (guest.bytes + Int(TestGuest.usedRing)).storeBytes(of: UInt16(7), toByteOffset: 2, as: UInt16.self)
        var queue = try queue(eventIndex: false)
        queue.pushUsed(head: 0, length: 1)
        #expect(guest.usedIndex == 8)
        #expect(guest.usedElement(7).length == 1)
    }

    @Test func withoutEventIndexHonoursNoInterrupt() throws {
        var queue = try queue(eventIndex: false)
        _ = queue.needsNotification()
        queue.pushUsed(head: 0, length: 1)
        let result1 = queue.needsNotification()
        #expect(result1)
        let result2 = queue.needsNotification()
        #expect(!result2, "nothing new since the last notification")
        guest.setAvailableFlags(SplitVirtqueueLayout.availableFlagNoInterrupt)
        queue.pushUsed(head: 1, length: 1)
        let result3 = queue.needsNotification()
        #expect(!result3)
    }

    @Test func withEventIndexNotifiesOnlyWhenUsedEventIsCrossed() throws {
        var queue = try queue(eventIndex: true)
        guest.setUsedEvent(0)
        let first = queue.needsNotification()
        #expect(first, "the first check after a start always notifies")
        queue.pushUsed(head: 0, length: 1)
        let result4 = queue.needsNotification()
        #expect(result4, "used idx moved 0 -> 1 past used_event 0")
        queue.pushUsed(head: 1, length: 1)
        let result5 = queue.needsNotification()
        #expect(!result5, "1 -> 2 does not cross used_event 0")
        guest.setUsedEvent(3)
        queue.pushUsed(head: 2, length: 1)
        let result6 = queue.needsNotification()
        #expect(!result6, "2 -> 3 does not cross used_event 3")
        queue.pushUsed(head: 3, length: 1)
        let result7 = queue.needsNotification()
        #expect(result7, "3 -> 4 crosses used_event 3")
    }

    @Test func withEventIndexPublishesAvailEventAndReportsRaces() throws {
        var queue = try queue(eventIndex: true)
        guest.offer(1)
        _ = try queue.popAvailable()
        let result8 = queue.enableNotification()
        #expect(!result8)
        #expect(guest.availableEvent == 1)
        guest.offer(2)
        let result9 = queue.enableNotification()
        #expect(result9, "an entry arrived: drain again instead of sleeping")
    }

    @Test func refusesMisalignedOrUnmappedRings() throws {
        let base = TestGuest.userBase
        #expect(throws: VhostUserError.self) {
            try SplitRingPointers(memory: memory, size: 8, descriptors: base + 8, available: base + 0x2000, used: base + 0x3000)
        }
        #expect(throws: VhostUserError.self) {
            try SplitRingPointers(memory: memory, size: 8, descriptors: 0x1000, available: 0x2000, used: 0x3000)
        }
        #expect(throws: VhostUserError.self) {
            try SplitRingPointers(memory: memory, size: 8, descriptors: base + 0x1000, available: base + 0x2000,
                                  used: base + UInt64(TestGuest.size) - 16)
        }
    }
}
