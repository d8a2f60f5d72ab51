import CLinuxHeaders
import SwiftFSProtocol
import Testing

/// virtio-fs config and split virtqueue layouts against linux/virtio_fs.h and linux/virtio_ring.h.
@Suite struct VirtioLayoutTests {
    @Test func descriptorAndUsedElement() {
        expectSameLayout(VirtqDescriptor.self, vring_desc.self, [
            (\.address, \.addr), (\.length, \.len), (\.flags, \.flags), (\.next, \.next),
        ])
        expectSameLayout(VirtqUsedElement.self, vring_used_elem.self, [(\.id, \.id), (\.length, \.len)])
        #expect(VirtqDescriptor.flagNext == UInt16(VRING_DESC_F_NEXT))
        #expect(VirtqDescriptor.flagWrite == UInt16(VRING_DESC_F_WRITE))
        #expect(VirtqDescriptor.flagIndirect == UInt16(VRING_DESC_F_INDIRECT))
        #expect(SplitVirtqueueLayout.availableFlagNoInterrupt == UInt16(VRING_AVAIL_F_NO_INTERRUPT))
        #expect(SplitVirtqueueLayout.usedFlagNoNotify == UInt16(VRING_USED_F_NO_NOTIFY))
    }

    @Test func virtioFSConfig() {
        #expect(VirtioFSConfig.wireSize == MemoryLayout<virtio_fs_config>.size)
        #expect(MemoryLayout<VirtioFSConfig>.offset(of: \.numRequestQueues) == MemoryLayout<virtio_fs_config>.offset(of: \.num_request_queues))
        #expect(MemoryLayout<virtio_fs_config>.offset(of: \.tag) == 0)
        #expect(VirtioFS.tagLength == MemoryLayout.size(ofValue: virtio_fs_config().tag))
        let config = VirtioFSConfig(tag: "share", numRequestQueues: 3)
        #expect(config.tagString == "share")
        #expect(VirtioFSConfig(tag: String(repeating: "t", count: 50), numRequestQueues: 1).tagString.count == VirtioFS.tagLength)
    }

    @Test func ringAreaOffsetsMatchVringInit() {
        for size in [1, 2, 8, 64, 128, 256, 1024, 32768] {
            let layout = SplitVirtqueueLayout(size: size)
            #expect(layout.descriptorTableBytes == size * MemoryLayout<vring_desc>.size)
            #expect(layout.descriptorOffset(size - 1) == (size - 1) * MemoryLayout<vring_desc>.size)
            // vring_init places avail right after the table, used after the avail ring (incl.
            // used_event) aligned up; vring_size is the total, so the areas' sizes must add up.
            let align = 4096
            let usedStart = (layout.descriptorTableBytes + layout.availableRingBytes + align - 1) & ~(align - 1)
            #expect(usedStart + layout.usedRingBytes == Int(vring_size(UInt32(size), UInt(align))))
            #expect(layout.availableEntryOffset(0) == MemoryLayout<vring_avail>.size)
            #expect(layout.usedEntryOffset(0) == MemoryLayout<vring_used>.size)
            #expect(layout.usedEntryOffset(1) - layout.usedEntryOffset(0) == MemoryLayout<vring_used_elem>.size)
            #expect(layout.usedEventOffset == layout.availableEntryOffset(size))
            #expect(layout.availableEventOffset == layout.usedEntryOffset(size))
        }
        #expect(SplitVirtqueueLayout.isValidSize(256) && !SplitVirtqueueLayout.isValidSize(0)
                && !SplitVirtqueueLayout.isValidSize(100) && !SplitVirtqueueLayout.isValidSize(65536))
    }

    @Test func needsEventAgreesWithTheKernelsVringNeedEvent() {
        let samples: [UInt16] = [0, 1, 2, 3, 100, 255, 256, 32767, 32768, 65533, 65534, 65535]
        for event in samples {
            for new in samples {
                for old in samples {
                    #expect(virtqueueNeedsEvent(eventIndex: event, new: new, old: old) == (vring_need_event(event, new, old) != 0),
                            "event \(event) new \(new) old \(old)")
                }
            }
        }
    }

    @Test func featureBits() {
        #expect(VirtioFeature.ringIndirectDescriptors == 1 << UInt64(VIRTIO_RING_F_INDIRECT_DESC))
        #expect(VirtioFeature.ringEventIndex == 1 << UInt64(VIRTIO_RING_F_EVENT_IDX))
    }
}
