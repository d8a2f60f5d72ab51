import SystemSupport
import Glibc
import Testing
@testable import VhostUser

/// Translation of guest-physical and front-end addresses through the memory table.
@Suite struct GuestMemoryTests {
    @Test func translatesGuestPhysicalAddressesInsideARegion() throws {
        let guest = TestGuest()
        let memory = try guest.memory()
        #expect(guest.maps(memory.pointer(guestAddress: 0x1234, length: 16), to: 0x1234))
        #expect(memory.pointer(guestAddress: UInt64(TestGuest.size - 16), length: 16) != nil)
    }

    @Test func refusesRangesEndingPastTheRegion() throws {
        let memory = try TestGuest().memory()
        #expect(memory.pointer(guestAddress: UInt64(TestGuest.size - 16), length: 17) == nil)
        #expect(memory.pointer(guestAddress: UInt64(TestGuest.size), length: 1) == nil)
        #expect(memory.pointer(guestAddress: UInt64.max, length: 1) == nil)
        #expect(memory.pointer(guestAddress: 0, length: -1) == nil)
    }

    @Test func translatesFrontEndAddressesSeparatelyFromGuestPhysicalOnes() throws {
        let guest = TestGuest()
        let memory = try guest.memory()
        #expect(guest.maps(memory.pointer(userAddress: TestGuest.userBase + 0x2000, length: 8), to: 0x2000))
        // A guest-physical address is not a front-end address.
        #expect(memory.pointer(userAddress: 0x2000, length: 8) == nil)
        #expect(memory.pointer(userAddress: TestGuest.userBase + UInt64(TestGuest.size) - 4, length: 8) == nil)
    }

    @Test func splitsABufferThatSpansAdjacentRegions() throws {
        let guest = TestGuest()
        let memory = try guest.splitMemory(at: 0x80000)
        var segments: [iovec] = []
        #expect(memory.appendSegments(guestAddress: 0x7fff0, length: 0x20, to: &segments))
        #expect(segments.count == 2)
        #expect(guest.maps(segments[0].iov_base, to: 0x7fff0) && segments[0].iov_len == 0x10)
        #expect(guest.maps(segments[1].iov_base, to: 0x80000))
        #expect(segments[1].iov_len == 0x10)
        // Contiguous lookups refuse the same range.
        #expect(memory.pointer(guestAddress: 0x7fff0, length: 0x20) == nil)
    }

    @Test func extendsTheLastSegmentWhenTheNextBufferContinuesIt() throws {
        let guest = TestGuest()
        let memory = try guest.memory()
        var segments: [iovec] = []
        // Three 4 KiB pages in a row (a huge page's worth of descriptors) and one elsewhere.
        #expect(memory.appendSegments(guestAddress: 0x10000, length: 0x1000, to: &segments))
        #expect(memory.appendSegments(guestAddress: 0x11000, length: 0x1000, to: &segments))
        #expect(memory.appendSegments(guestAddress: 0x12000, length: 0x1000, to: &segments))
        #expect(memory.appendSegments(guestAddress: 0x20000, length: 0x10, to: &segments))
        #expect(segments.count == 2)
        #expect(guest.maps(segments[0].iov_base, to: 0x10000) && segments[0].iov_len == 0x3000)
        #expect(guest.maps(segments[1].iov_base, to: 0x20000) && segments[1].iov_len == 0x10)
        // A refused buffer that would have continued the last segment leaves it as it was.
        #expect(!memory.appendSegments(guestAddress: 0x20010, length: UInt32(TestGuest.size), to: &segments))
        #expect(segments.count == 2 && segments[1].iov_len == 0x10)
    }

    @Test func refusesABufferRunningOffTheEndWithoutTouchingTheSegments() throws {
        let memory = try TestGuest().memory()
        var segments = [iovec(iov_base: nil, iov_len: 1)]
        #expect(!memory.appendSegments(guestAddress: UInt64(TestGuest.size - 8), length: 16, to: &segments))
        #expect(!memory.appendSegments(guestAddress: UInt64.max - 3, length: UInt32.max, to: &segments))
        #expect(segments.count == 1)
    }

    @Test func refusesOverlappingRegionsAndWrappingSizes() throws {
        let guest = TestGuest()
        let a = try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0, size: 0x1000, userAddress: 0, mmapOffset: 0)
        let b = try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0x800, size: 0x1000, userAddress: 0x10000, mmapOffset: 0)
        #expect(throws: VhostUserError.self) { try GuestMemory(regions: [a, b]) }
        #expect(throws: VhostUserError.self) {
            try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: UInt64.max - 0xfff, size: 0x2000, userAddress: 0, mmapOffset: 0)
        }
        #expect(throws: VhostUserError.self) {
            try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0, size: 0, userAddress: 0, mmapOffset: 0)
        }
    }

    @Test func addsAndRemovesRegions() throws {
        let guest = TestGuest()
        let low = try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0, size: 0x1000, userAddress: 0x10000, mmapOffset: 0)
        let high = try MemoryRegion(fd: guest.descriptor, guestPhysicalAddress: 0x100000, size: 0x1000, userAddress: 0x20000, mmapOffset: 0x1000)
        let memory = try GuestMemory.empty.adding(high).adding(low)
        #expect(memory.regions.map(\.guestPhysicalAddress) == [0, 0x100000])
        #expect(guest.maps(memory.pointer(guestAddress: 0x100010, length: 4), to: 0x1010))
        let smaller = try #require(memory.removing(guestPhysicalAddress: 0x100000, size: 0x1000))
        #expect(smaller.pointer(guestAddress: 0x100010, length: 4) == nil)
        #expect(memory.removing(guestPhysicalAddress: 0x5000, size: 0x1000) == nil)
        // The old snapshot still works: workers holding it are unaffected.
        #expect(memory.pointer(guestAddress: 0x100010, length: 4) != nil)
    }

    @Test func workerCachesFollowTheCurrentTable() throws {
        let guest = TestGuest()
        let map = GuestMemoryMap()
        var cache = GuestMemoryCache()
        cache.refresh(map)
        #expect(cache.memory.regions.isEmpty)
        let memory = try guest.memory()
        map.replace(with: memory)
        cache.refresh(map)
        #expect(cache.memory === memory)
        cache.refresh(map)
        #expect(cache.memory === memory, "unchanged generation: the same snapshot, no lock")
        map.replace(with: .empty)
        cache.refresh(map)
        #expect(cache.memory.regions.isEmpty)
    }
}
