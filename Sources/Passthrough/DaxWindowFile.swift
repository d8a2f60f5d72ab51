import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// The DAX window as QEMU 7.2 can offer it: a shared file (`--dax-window`,
/// usually in /dev/shm) that QEMU exposes to the guest as the memory of an
/// ivshmem-plain device and that the daemon maps too. QEMU cannot map host
/// files into it, so the window holds copies: a mapping is filled from the
/// file, and the guest's stores in a write mapping are written back.
public final class DaxWindowFile: DaxMapper, @unchecked Sendable {
    // @unchecked: `base` is fixed for the object's life; which bytes of the
    // window a thread touches is decided under DaxMappingTable's lock.

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
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw SetupError(description: "cannot open DAX window \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
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

    /// Copies the file's bytes in; beyond the end of the file the window reads zeros.
    public func map(_ range: DaxRange, file: Int32, writable: Bool) throws(Errno) {
        let start = base + Int(range.windowOffset)
        var done = 0
        let length = Int(range.length)
        while done < length {
            let n = try systemCall { pread(file, start + done, length - done, off_t(range.fileOffset) + off_t(done)) }
            if n == 0 { break }
            done += n
        }
        if done < length { (start + done).initializeMemory(as: UInt8.self, repeating: 0, count: length - done) }
    }

    /// Nothing to undo: the bytes stay until the range is mapped again.
    public func unmap(_ range: DaxRange) throws(Errno) {}

    public func writeBack(_ range: DaxRange, file: Int32, fileSize: UInt64) throws(Errno) {
        guard range.fileOffset < fileSize else { return }
        let length = Int(min(range.length, fileSize - range.fileOffset))
        let start = base + Int(range.windowOffset)
        var done = 0
        while done < length {
            done += try systemCall { pwrite(file, start + done, length - done, off_t(range.fileOffset) + off_t(done)) }
        }
    }
}
