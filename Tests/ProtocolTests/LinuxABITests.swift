import CLinuxHeaders
import Glibc
import SwiftFSProtocol
import Testing

/// protocol/LinuxABI.swift defines Linux's values once for the guest, which has
/// no libc; here each is checked against the host's C library headers.
@Suite struct LinuxABITests {
    @Test func errnoValuesMatchTheCLibrary() {
        let table: [(Int32, Int32)] = [
            (Errno.EPERM.rawValue, EPERM), (Errno.ENOENT.rawValue, ENOENT), (Errno.EINTR.rawValue, EINTR),
            (Errno.EIO.rawValue, EIO), (Errno.ENXIO.rawValue, ENXIO), (Errno.E2BIG.rawValue, E2BIG),
            (Errno.EBADF.rawValue, EBADF), (Errno.EAGAIN.rawValue, EAGAIN), (Errno.ENOMEM.rawValue, ENOMEM),
            (Errno.EACCES.rawValue, EACCES), (Errno.EFAULT.rawValue, EFAULT), (Errno.EBUSY.rawValue, EBUSY),
            (Errno.EEXIST.rawValue, EEXIST), (Errno.EXDEV.rawValue, EXDEV), (Errno.ENODEV.rawValue, ENODEV),
            (Errno.ENOTDIR.rawValue, ENOTDIR), (Errno.EISDIR.rawValue, EISDIR), (Errno.EINVAL.rawValue, EINVAL),
            (Errno.ENFILE.rawValue, ENFILE), (Errno.EMFILE.rawValue, EMFILE), (Errno.EFBIG.rawValue, EFBIG),
            (Errno.ENOSPC.rawValue, ENOSPC), (Errno.ESPIPE.rawValue, ESPIPE), (Errno.EROFS.rawValue, EROFS),
            (Errno.EMLINK.rawValue, EMLINK), (Errno.ERANGE.rawValue, ERANGE), (Errno.EDEADLK.rawValue, EDEADLK),
            (Errno.ENAMETOOLONG.rawValue, ENAMETOOLONG), (Errno.ENOLCK.rawValue, ENOLCK), (Errno.ENOSYS.rawValue, ENOSYS),
            (Errno.ENOTEMPTY.rawValue, ENOTEMPTY), (Errno.ELOOP.rawValue, ELOOP), (Errno.ENODATA.rawValue, ENODATA),
            (Errno.EOVERFLOW.rawValue, EOVERFLOW), (Errno.EPROTO.rawValue, EPROTO), (Errno.EOPNOTSUPP.rawValue, EOPNOTSUPP),
        ]
        for (ours, libc) in table { #expect(ours == libc, "errno \(ours) vs \(libc)") }
    }

    @Test func openFlagsMatchTheCLibrary() {
        let table: [(UInt32, Int32)] = [
            (LinuxOpenFlags.readOnly, O_RDONLY), (LinuxOpenFlags.writeOnly, O_WRONLY),
            (LinuxOpenFlags.readWrite, O_RDWR), (LinuxOpenFlags.accessModeMask, O_ACCMODE),
            (LinuxOpenFlags.create, O_CREAT), (LinuxOpenFlags.exclusive, O_EXCL),
            (LinuxOpenFlags.noControllingTTY, O_NOCTTY), (LinuxOpenFlags.truncate, O_TRUNC),
            (LinuxOpenFlags.append, O_APPEND), (LinuxOpenFlags.nonblock, O_NONBLOCK),
            (LinuxOpenFlags.dsync, O_DSYNC), (LinuxOpenFlags.direct, libc_O_DIRECT),
            (LinuxOpenFlags.directory, O_DIRECTORY), (LinuxOpenFlags.noFollow, O_NOFOLLOW),
            (LinuxOpenFlags.noAccessTime, libc_O_NOATIME), (LinuxOpenFlags.closeOnExec, O_CLOEXEC),
            (LinuxOpenFlags.sync, O_SYNC), (LinuxOpenFlags.path, libc_O_PATH),
        ]
        for (ours, libc) in table { #expect(ours == UInt32(bitPattern: libc), "open flag 0o\(String(ours, radix: 8))") }
        // O_LARGEFILE is 0 in 64-bit user space; the kernel's value is what travels in FUSE.
        #expect(LinuxOpenFlags.largefile == 0o100000)
    }

    @Test func fileModesLocksAndWhenceMatchTheCLibrary() {
        let modes: [(UInt32, mode_t)] = [
            (LinuxFileMode.typeMask, S_IFMT), (LinuxFileMode.socket, S_IFSOCK), (LinuxFileMode.symlink, S_IFLNK),
            (LinuxFileMode.regular, S_IFREG), (LinuxFileMode.blockDevice, S_IFBLK),
            (LinuxFileMode.directory, S_IFDIR), (LinuxFileMode.characterDevice, S_IFCHR),
            (LinuxFileMode.fifo, S_IFIFO),
        ]
        for (ours, libc) in modes { #expect(ours == UInt32(libc), "mode 0o\(String(ours, radix: 8))") }
        #expect(LinuxFileMode.direntType(LinuxFileMode.directory | 0o755) == UInt32(DT_DIR))
        #expect(LinuxFileMode.direntType(LinuxFileMode.regular) == UInt32(DT_REG))
        #expect(LinuxFileMode.direntType(LinuxFileMode.symlink) == UInt32(DT_LNK))
        #expect(LinuxLockType.read == UInt32(F_RDLCK))
        #expect(LinuxLockType.write == UInt32(F_WRLCK))
        #expect(LinuxLockType.unlock == UInt32(F_UNLCK))
        #expect(LinuxSeekWhence.set == UInt32(SEEK_SET))
        #expect(LinuxSeekWhence.current == UInt32(SEEK_CUR))
        #expect(LinuxSeekWhence.end == UInt32(SEEK_END))
        #expect(LinuxSeekWhence.data == UInt32(libc_SEEK_DATA))
        #expect(LinuxSeekWhence.hole == UInt32(libc_SEEK_HOLE))
    }
}
