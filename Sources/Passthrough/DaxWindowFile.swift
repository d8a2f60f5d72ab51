import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// The DAX window as QEMU 7.2 can offer it: a shared file (`--dax-window`,
/// usually in /dev/shm) that QEMU exposes to the guest as the memory of an
/// ivshmem-plain device and that the daemon maps too. QEMU cannot map host
/// files into it, so the window holds copies: a mapping is filled from the
/// file, and the guest's stores in a write mapping are written back.
public final class DaxWindowFile: DaxMapper, @unchecked Sendable {
    // @unchecked: `base` is fixed for the object's life; which bytes of the
    // window (and of the clean copies) a thread touches is decided under
    // DaxMappingTable's lock.

    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String
    public let windowSize: UInt64
    private let base: UnsafeMutableRawPointer
    public var holdsCopies: Bool { true }

    /// Opens and maps the first `size` bytes of the file at `path` (which
    /// must exist and be at least that large; run-guest creates it with truncate).
    public init(path: String, size: UInt64) throws(SetupError) {
        guard size > 0, size % DaxGeometry.alignment == 0, size <= UInt64(Int.max) else {
            throw SetupError(description: "DAX window size \(size) is not a positive multiple of 2 MiB")
        }
        let raw = open(path, O_RDWR | O_CLOEXEC)
        guard raw >= 0 else {
            throw SetupError(description: "cannot open DAX window \(path): \(String(cString: strerror(errno)))")
        }
        let file = OwnedDescriptor(raw) // the mapping keeps the window; the descriptor goes with init
        let fd = file.rawValue
        var st = stat()
        guard fstat(fd, &st) == 0, UInt32(st.st_mode) & LinuxFileMode.typeMask == LinuxFileMode.regular else {
            throw SetupError(description: "DAX window \(path) is not a regular file")
        }
        guard UInt64(st.st_size) >= size else {
            throw SetupError(description: "DAX window \(path) holds \(st.st_size) bytes, less than the window size \(size)")
        }
        // Populated now: every mapping copies into these pages, and a first touch of each would fault.
        guard let mapped = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0),
              mapped != MAP_FAILED else {
            throw SetupError(description: "cannot map DAX window \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.windowSize = size
        self.base = mapped
    }

    deinit { munmap(base, Int(windowSize)) }

    /// The window's bytes (what the guest sees in BAR 2).
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: Int(windowSize)) }

    /// For each slot of a write mapping, its bytes as the daemon last put them
    /// there (fill, refresh, write-back): a write-back sends only the bytes
    /// that differ, i.e. what the guest stored, and leaves the rest of the
    /// file (which the host may have changed meanwhile) alone. The mapping
    /// table's lock orders every use; this lock only guards the dictionary.
    private let cleanCopies = Mutex<[UInt64: CleanCopy]>([:])

    private final class CleanCopy: @unchecked Sendable {
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: Int(DaxGeometry.alignment), alignment: 64)
        deinit { bytes.deallocate() }
    }

    /// The parts of `range` in each 2 MiB slot: slot index, offset in the slot, window address, file offset, length.
    private func forEachSlotPart(of range: DaxRange, length: UInt64? = nil,
                                 _ body: (UInt64, Int, UnsafeMutableRawPointer, UInt64, Int) throws(Errno) -> Void) throws(Errno) {
        let slotSize = DaxGeometry.alignment
        var done: UInt64 = 0
        let total = length ?? range.length
        while done < total {
            let windowOffset = range.windowOffset + done
            let inSlot = windowOffset % slotSize
            let count = min(total - done, slotSize - inSlot)
            try body(windowOffset / slotSize, Int(inSlot), base + Int(windowOffset), range.fileOffset + done, Int(count))
            done += count
        }
    }

    /// Copies the file's bytes in; beyond the end of the file the window reads zeros.
    public func map(_ range: DaxRange, file: Int32, writable: Bool) throws(Errno) {
        try forEachSlotPart(of: range) { (slot, inSlot, window, fileOffset, length) throws(Errno) in
            var done = 0
            while done < length {
                let n = try systemCall { pread(file, window + done, length - done, off_t(fileOffset) + off_t(done)) }
                if n == 0 { break }
                done += n
            }
            if done < length { (window + done).initializeMemory(as: UInt8.self, repeating: 0, count: length - done) }
            if writable {
                let copy = cleanCopies.withLock { copies in
                    if let existing = copies[slot] { return existing }
                    let made = CleanCopy()
                    copies[slot] = made
                    return made
                }
                (copy.bytes + inSlot).copyMemory(from: window, byteCount: length)
            } else if length == Int(DaxGeometry.alignment) {
                cleanCopies.withLock { $0[slot] = nil }
            }
        }
    }

    /// The bytes stay until the range is mapped again; a write mapping's clean copy goes.
    public func unmap(_ range: DaxRange) throws(Errno) {
        try forEachSlotPart(of: range) { (slot, _, _, _, length) throws(Errno) in
            if length == Int(DaxGeometry.alignment) { cleanCopies.withLock { $0[slot] = nil } }
        }
    }

    /// The window's bytes stay (a new driver maps before it reads); the clean copies go.
    public func forgetAll() { cleanCopies.withLock { $0.removeAll() } }

    /// Per 4 KiB, the span from the first to the last byte that differs from
    /// the clean copy goes to the file (taken into the copy first, so a store
    /// racing with the write-back is caught by the next one).
    public func writeBack(_ range: DaxRange, file: Int32, fileSize: UInt64) throws(Errno) {
        guard range.fileOffset < fileSize else { return }
        let limit = min(range.length, fileSize - range.fileOffset)
        try forEachSlotPart(of: range, length: limit) { (slot, inSlot, window, fileOffset, length) throws(Errno) in
            guard let copy = cleanCopies.withLock({ $0[slot] }) else {
                try Self.writeAll(file, window, length, at: fileOffset) // never filled as a write mapping: all of it
                return
            }
            let clean = copy.bytes + inSlot
            var chunk = 0
            while chunk < length {
                let count = min(4096, length - chunk)
                if memcmp(window + chunk, clean + chunk, count) != 0 {
                    let now = (window + chunk).assumingMemoryBound(to: UInt8.self)
                    let was = (clean + chunk).assumingMemoryBound(to: UInt8.self)
                    var first = 0, last = count - 1
                    while first < last && now[first] == was[first] { first += 1 }
                    while last > first && now[last] == was[last] { last -= 1 }
                    let span = last - first + 1
                    (clean + chunk + first).copyMemory(from: window + chunk + first, byteCount: span)
                    try Self.writeAll(file, clean + chunk + first, span, at: fileOffset + UInt64(chunk + first))
                }
                chunk += count
            }
        }
    }

    private static func writeAll(_ file: Int32, _ source: UnsafeRawPointer, _ length: Int, at offset: UInt64) throws(Errno) {
        var done = 0
        while done < length {
            let n = try systemCall { pwrite(file, source + done, length - done, off_t(offset) + off_t(done)) }
            guard n > 0 else { throw Errno.EIO }
            done += n
        }
    }
}
