import SwiftFSProtocol
import Synchronization

/// One mapping of a file range into the DAX window (FUSE_SETUPMAPPING):
/// window bytes [windowOffset, windowOffset + length) show file bytes
/// [fileOffset, fileOffset + length).
public struct DaxRange: Sendable, Equatable {
    public var windowOffset: UInt64
    public var fileOffset: UInt64
    public var length: UInt64
    public init(windowOffset: UInt64, fileOffset: UInt64, length: UInt64) {
        self.windowOffset = windowOffset; self.fileOffset = fileOffset; self.length = length
    }
}

/// How file ranges get into the guest's DAX window. Two mechanisms:
/// - the window is a shared file the daemon maps too (ivshmem on QEMU 7.2):
///   it holds copies, which the daemon fills, writes back and refreshes;
/// - the front end maps the file's descriptor into the device's shared
///   memory itself (vhost-user SHMEM_MAP): the guest sees the host page
///   cache, nothing to copy or keep coherent.
/// A mapper sees one 2 MiB slot at a time (a copying one also parts of a
/// slot, to refresh them), already checked to lie inside the window.
public protocol DaxMapper: AnyObject, Sendable {
    /// Bytes in the window.
    var windowSize: UInt64 { get }
    /// True when the window holds copies of file bytes (fill, write back, refresh).
    var holdsCopies: Bool { get }
    /// Makes the window show `range` of `file` (a copying mapper reads it in,
    /// zero-filling beyond the end of the file). Also refreshes a sub-range.
    func map(_ range: DaxRange, file: Int32, writable: Bool) throws(Errno)
    /// Ends the mapping of `range` (after any write-back).
    func unmap(_ range: DaxRange) throws(Errno)
    /// Writes the guest's stores in `range` to `file`, only the bytes below
    /// `fileSize` (an extending write goes through FUSE_WRITE, as on Linux).
    func writeBack(_ range: DaxRange, file: Int32, fileSize: UInt64) throws(Errno)
    /// The device was reset: every mapping is gone without an `unmap` (the
    /// front end drops them with the device); drop what is kept for them.
    func forgetAll()
}

/// The mapper a session uses, installed when it is known: at start for the
/// window file, or when the vhost-user front end agrees on SHMEM and hands
/// over its back-end channel. Empty means no DAX.
public final class DaxMapperSlot: Sendable {
    private let current = Mutex<(any DaxMapper)?>(nil)

    public init(_ mapper: (any DaxMapper)? = nil) { current.withLock { $0 = mapper } }

    public var mapper: (any DaxMapper)? { current.withLock { $0 } }

    public func install(_ mapper: (any DaxMapper)?) { current.withLock { $0 = mapper } }
}

/// The mapping granularity: 2 MiB, the largest alignment Linux accepts
/// (fuse_init_out.map_alignment is its log2).
public enum DaxGeometry {
    public static let alignmentShift: UInt16 = 21
    public static let alignment: UInt64 = 1 << 21
}
