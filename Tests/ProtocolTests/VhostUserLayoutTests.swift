import CLinuxHeaders
import Testing
import VhostUser

/// The vhost-user payloads that mirror the kernel's vhost ABI
/// (linux/vhost_types.h), field by field. QEMU's vhost-user.rst defines them
/// with the kernel's layout; its headers are not installed here.
@Suite struct VhostUserLayoutTests {
    @Test func vringPayloadsMatchTheKernel() {
        expectSameLayout(VhostUserVringState.self, vhost_vring_state.self, [(\.index, \.index), (\.num, \.num)])
        expectSameLayout(VhostUserVringAddress.self, vhost_vring_addr.self, [
            (\.index, \.index), (\.flags, \.flags), (\.descriptors, \.desc_user_addr),
            (\.used, \.used_user_addr), (\.available, \.avail_user_addr), (\.log, \.log_guest_addr),
        ])
    }

    @Test func memoryRegionsMatchTheKernel() {
        // vhost-user's fourth field is the mmap offset where the kernel has padding.
        expectSameLayout(VhostUserMemoryRegionDescription.self, vhost_memory_region.self, [
            (\.guestPhysicalAddress, \.guest_phys_addr), (\.memorySize, \.memory_size),
            (\.userAddress, \.userspace_addr), (\.mmapOffset, \.flags_padding),
        ])
        expectSameLayout(VhostUserMemoryTableHeader.self, vhost_memory.self, [(\.regionCount, \.nregions), (\.padding, \.padding)])
    }

    @Test func headerAndConstantsMatchTheSpecification() {
        // vhost-user.rst: request u32, flags u32, size u32; at most 8 regions in SET_MEM_TABLE.
        #expect(VhostUserHeader.wireSize == 12)
        #expect(VhostUserMemoryTableHeader.maxRegions == 8)
        #expect(VhostUserSingleMemoryRegion.wireSize == 8 + VhostUserMemoryRegionDescription.wireSize)
        #expect(VhostUserRequest.setVringAddr.rawValue == 9 && VhostUserRequest.getMaxMemSlots.rawValue == 36)
    }
}
