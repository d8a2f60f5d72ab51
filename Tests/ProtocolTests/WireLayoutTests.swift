import CLinuxHeaders
import SwiftFSProtocol
import Testing

/// Every wire record must have the kernel's size and field offsets.
@Suite struct WireLayoutTests {
    @Test func headerSizesMatchTheKernel() {
        #expect(FuseInHeader.wireSize == MemoryLayout<fuse_in_header>.size)
        #expect(FuseOutHeader.wireSize == MemoryLayout<fuse_out_header>.size)
    }
}
