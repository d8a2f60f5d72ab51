import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import SystemSupport

/// A file's kernel file handle (name_to_handle_at): names the file on its
/// filesystem without an open descriptor, and survives renames.
struct KernelFileHandle: Sendable {
    let type: Int32
    let bytes: [UInt8]

    /// The handle of the file `fd` refers to and the id of the mount it was reached through.
    static func of(_ fd: Int32) throws(Errno) -> (handle: KernelFileHandle, mountID: Int32) {
        var type: Int32 = 0, mountID: Int32 = 0
        var length: Int32 = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: Int(shim_MAX_HANDLE_SZ)) { (buffer, count) throws(Errno) in
            length = try systemCall { shim_handle_of_fd(fd, &type, buffer.baseAddress!, &mountID) }
            count = Int(length)
        }
        return (KernelFileHandle(type: type, bytes: bytes), mountID)
    }
}

/// Reopens inodes from their file handles, as O_PATH descriptors kept in a
/// bounded DescriptorCache.
///
/// Confinement: open_by_handle_at opens *any* file of the filesystem a
/// handle names, wherever it lies. So handles only ever come from our own
/// name_to_handle_at of a descriptor we opened inside the share (never from
/// the guest), and only for files on the shared directory's own mount, so the
/// mount descriptor used to decode them is the shared directory's; a file on
/// another mount keeps its descriptor instead. A reopened file must still be
/// the (st_dev, st_ino) it was, or the operation gets ESTALE.
final class HandleResolver: Sendable {
    let cache: DescriptorCache
    /// The shared directory opened for reading: names the mount handles are decoded on.
    private let mountFD: OwnedDescriptor
    let mountID: Int32

    /// Fails if handles cannot be used on `rootFD`'s filesystem or without
    /// CAP_DAC_READ_SEARCH (checked by reopening the root from its handle).
    init(rootFD: Int32, cacheCapacity: Int) throws(Errno) {
        let (handle, mountID) = try KernelFileHandle.of(rootFD)
        // A real open descriptor: open_by_handle_at refuses O_PATH ones (EBADF).
        let mountFD = OwnedDescriptor(try systemCall {
            shim_openat(rootFD, ".", O_RDONLY | shim_O_DIRECTORY | shim_O_CLOEXEC, 0)
        })
        _ = try Self.open(handle, mountFD: mountFD.rawValue) // the probe is closed at once
        self.mountFD = mountFD
        self.mountID = mountID
        self.cache = DescriptorCache(capacity: cacheCapacity)
    }

    /// The handle of `fd` if it can stand in for a descriptor; nil for a file on another mount.
    func handle(of fd: Int32) throws(Errno) -> KernelFileHandle? {
        let (handle, mountID) = try KernelFileHandle.of(fd)
        return mountID == self.mountID ? handle : nil
    }

    /// A new O_PATH descriptor of the file `handle` names, which must be `key`.
    func open(_ handle: KernelFileHandle, expecting key: InodeKey) throws(Errno) -> OwnedDescriptor {
        let fd = try Self.open(handle, mountFD: mountFD.rawValue)
        var st = stat()
        guard fstatat(fd.rawValue, "", &st, shim_AT_EMPTY_PATH | shim_AT_SYMLINK_NOFOLLOW) == 0, InodeKey(st) == key else {
            throw Errno(ESTALE)
        }
        return fd
    }

    private static func open(_ handle: KernelFileHandle, mountFD: Int32) throws(Errno) -> OwnedDescriptor {
        OwnedDescriptor(try handle.bytes.withUnsafeBufferPointer { (bytes) throws(Errno) in
            try systemCall {
                shim_open_by_handle(mountFD, handle.type, bytes.baseAddress, UInt32(bytes.count),
                                    shim_O_PATH | shim_O_NOFOLLOW | shim_O_CLOEXEC)
            }
        })
    }
}
