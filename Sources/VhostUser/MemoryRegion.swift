import CShim
import Glibc
import SystemSupport

/// One region of guest RAM, mapped MAP_SHARED from the file descriptor the
/// front end sent. It knows both of its addresses: guest-physical (what
/// descriptors carry) and the front end's virtual address (what
/// SET_VRING_ADDR carries). Unmapped when the last snapshot using it goes.
///
/// @unchecked Sendable: every stored property is immutable after init. The
/// mapped bytes are guest memory shared with another process; who touches
/// which bytes when is governed by the virtqueue protocol, not by Swift.
public final class MemoryRegion: @unchecked Sendable {
    public let guestPhysicalAddress: UInt64
    public let size: UInt64
    public let userAddress: UInt64
    public let mmapOffset: UInt64
    /// Start of the region's bytes (mapping base + mmap_offset).
    public let base: UnsafeMutableRawPointer
    private let mapping: UnsafeMutableRawPointer
    private let mappingLength: Int

    /// Maps `size` bytes at `mmapOffset` of `fd`. The mapping does not need
    /// `fd` afterwards: its owner may close it.
    public init(fd: borrowing OwnedDescriptor, guestPhysicalAddress: UInt64, size: UInt64,
                userAddress: UInt64, mmapOffset: UInt64) throws(VhostUserError) {
        guard size > 0,
              guestPhysicalAddress.addingReportingOverflow(size - 1).overflow == false,
              userAddress.addingReportingOverflow(size - 1).overflow == false
        else { throw .invalidMemoryRegion("region wraps around the address space") }
        let (total, overflow) = size.addingReportingOverflow(mmapOffset)
        guard !overflow, total <= UInt64(Int.max) else {
            throw .invalidMemoryRegion("size \(size) + mmap offset \(mmapOffset) too large")
        }
        // Pages past the end of a file cannot be touched (SIGBUS): a region
        // must lie within its file (QEMU's memfd and hugetlbfs RAM are files
        // of the RAM's size; a descriptor that is not a plain file has no size to check).
        var info = stat()
        if fstat(fd.rawValue, &info) == 0, info.st_mode & S_IFMT == S_IFREG, UInt64(info.st_size) < total {
            throw .invalidMemoryRegion("region ends at byte \(total) of its file, which has \(info.st_size) bytes")
        }
        // Map from offset 0: mmap_offset need not be page aligned.
        let mapped = mmap(nil, Int(total), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.rawValue, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .invalidMemoryRegion("mmap of \(total) bytes failed: errno \(errno)")
        }
        self.mapping = mapped
        self.mappingLength = Int(total)
        self.base = mapped + Int(mmapOffset)
        self.guestPhysicalAddress = guestPhysicalAddress
        self.size = size
        self.userAddress = userAddress
        self.mmapOffset = mmapOffset
    }

    deinit { munmap(mapping, mappingLength) }

    /// Do the guest-physical ranges overlap?
    func overlaps(_ other: MemoryRegion) -> Bool {
        guestPhysicalAddress <= other.guestPhysicalAddress &+ (other.size - 1)
            && other.guestPhysicalAddress <= guestPhysicalAddress &+ (size - 1)
    }
}
