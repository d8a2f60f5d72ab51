// Small integers for open files, lowest free number first as POSIX requires.
// 0-2 are left to the console, so the first file gets 3.

final class FileDescriptorTable {
    static let firstDescriptor: Int32 = 3
    static let maxDescriptors = 4096

    private var slots: [OpenFileDescription?] = []
    /// Lower bound for the next free slot, so opening stays O(1) in the common case.
    private var firstFreeHint = 0

    var openCount: Int {
        var count = 0
        for slot in slots where slot != nil { count += 1 }
        return count
    }

    func install(_ description: OpenFileDescription) throws(Errno) -> Int32 {
        var index = firstFreeHint
        while index < slots.count && slots[index] != nil { index += 1 }
        if index == slots.count {
            guard slots.count < FileDescriptorTable.maxDescriptors else { throw .EMFILE }
            slots.append(nil)
        }
        slots[index] = description
        firstFreeHint = index + 1
        return Int32(index) + FileDescriptorTable.firstDescriptor
    }

    func description(_ descriptor: Int32) throws(Errno) -> OpenFileDescription {
        let index = Int(descriptor) - Int(FileDescriptorTable.firstDescriptor)
        guard index >= 0, index < slots.count, let description = slots[index] else { throw .EBADF }
        return description
    }

    func remove(_ descriptor: Int32) throws(Errno) -> OpenFileDescription {
        let description = try description(descriptor)
        let index = Int(descriptor) - Int(FileDescriptorTable.firstDescriptor)
        slots[index] = nil
        firstFreeHint = min(firstFreeHint, index)
        return description
    }
}
