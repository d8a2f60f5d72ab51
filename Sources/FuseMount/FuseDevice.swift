import CShim
import Glibc
import Logging
import SystemSupport

/// An open /dev/fuse descriptor on the session's connection. Workers that
/// read the same descriptor share one object, which closes it when the last
/// of them lets go: a worker `run` gave up waiting for keeps its descriptor
/// until it ends (or the process exits), and no one closes it under it.
final class FuseDevice: Sendable {
    private let owned: OwnedDescriptor

    var fd: Int32 { owned.rawValue }

    private init(_ owned: consuming OwnedDescriptor) { self.owned = owned }

    /// A fresh, not yet mounted descriptor.
    static func open() -> FuseDevice? {
        let fd = shim_openat(shim_AT_FDCWD, "/dev/fuse", O_RDWR | shim_O_CLOEXEC, 0)
        return fd >= 0 ? FuseDevice(OwnedDescriptor(fd)) : nil
    }

    /// A descriptor of its own on the same connection (FUSE_DEV_IOC_CLONE), or nil.
    func clone(logger: Logger) -> FuseDevice? {
        guard let device = Self.open() else { return nil }
        guard shim_ioctl_fuse_clone(device.fd, UInt32(fd)) == 0 else {
            let error = errno
            logger.debug("FUSE_DEV_IOC_CLONE: errno \(error); workers share one descriptor")
            return nil
        }
        return device
    }
}
