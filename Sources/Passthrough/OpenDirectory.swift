import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// A directory the guest opened: a descriptor for getdents64 and a reusable
/// buffer (allocated once per handle, not per request). READDIR offsets are
/// the d_off cookies getdents64 reports, which lseek on the same descriptor
/// accepts: each request seeks to the cookie the kernel passes back.
final class OpenDirectory: Sendable {
    private let owned: OwnedDescriptor
    let node: NodeID
    /// Serialises seek+read on the shared descriptor; owns the buffer.
    private let buffer: Mutex<DirectoryBuffer>

    static let maxBufferSize = 32 * 1024

    init(_ owned: consuming OwnedDescriptor, node: NodeID) {
        self.owned = owned
        self.node = node
        self.buffer = Mutex(DirectoryBuffer())
    }

    var fd: Int32 { owned.rawValue }

    /// Calls `body` for entries from the cookie `offset` on, reading about
    /// `chunk` bytes of host entries, until `body` returns false.
    func forEachEntry(from offset: UInt64, chunk: Int, _ body: (DirectoryRecord) -> Bool) throws(Errno) {
        let size = max(1024, min(chunk, Self.maxBufferSize))
        let result: Result<Void, Errno> = buffer.withLock { buffer in
            do throws(Errno) {
                let bytes = buffer.storage(Self.maxBufferSize)
                guard offset <= UInt64(Int64.max) else { throw Errno.EINVAL }
                _ = try systemCall { lseek(fd, off_t(offset), SEEK_SET) }
                while true {
                    let count = try systemCall { shim_getdents64(fd, bytes, size) }
                    if count == 0 { return .success(()) }
                    var position = 0
                    while position + 19 < count {
                        let raw = UnsafeRawBufferPointer(start: bytes + position, count: count - position)
                        let reclen = Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                        guard reclen > 19, reclen <= raw.count else { throw Errno.EIO }
                        let nameBytes = UnsafeRawBufferPointer(rebasing: raw[19..<reclen])
                        let nameLength = nameBytes.firstIndex(of: 0) ?? nameBytes.count
                        let record = DirectoryRecord(
                            inode: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                            nextOffset: UInt64(bitPattern: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self)),
                            type: UInt32(raw[18]),
                            name: UnsafeRawBufferPointer(rebasing: nameBytes[0..<nameLength]))
                        position += reclen
                        if !body(record) { return .success(()) }
                    }
                }
            } catch { return .failure(error) }
        }
        try result.get()
    }
}

/// One host directory entry, valid during the forEachEntry callback.
struct DirectoryRecord {
    var inode: UInt64
    /// The cookie of the entry after this one.
    var nextOffset: UInt64
    /// DT_* type.
    var type: UInt32
    /// Without the NUL.
    var name: UnsafeRawBufferPointer

    var isDotOrDotDot: Bool {
        (name.count == 1 && name[0] == 0x2E) || (name.count == 2 && name[0] == 0x2E && name[1] == 0x2E)
    }
}

/// getdents64's buffer, allocated on first use and freed with the handle.
struct DirectoryBuffer: ~Copyable {
    private var pointer: UnsafeMutableRawPointer?

    init() {}

    mutating func storage(_ size: Int) -> UnsafeMutableRawPointer {
        if let pointer { return pointer }
        let new = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        pointer = new
        return new
    }

    deinit { pointer?.deallocate() }
}
