import CLinuxHeaders
import Glibc
import SwiftFSProtocol
import Testing

/// protocol/LinuxABI.swift defines Linux's values once for the guest, which has
/// no libc; here each is checked against the host's C library headers.
@Suite struct LinuxABITests {
    @Test func errnoValuesMatchTheCLibrary() {
        let table: [(Int32, Int32)] = [
            (LinuxErrno.EPERM, EPERM), (LinuxErrno.ENOENT, ENOENT), (LinuxErrno.EINTR, EINTR),
            (LinuxErrno.EIO, EIO), (LinuxErrno.ENXIO, ENXIO), (LinuxErrno.E2BIG, E2BIG),
            (LinuxErrno.EBADF, EBADF), (LinuxErrno.EAGAIN, EAGAIN), (LinuxErrno.ENOMEM, ENOMEM),
            (LinuxErrno.EACCES, EACCES), (LinuxErrno.EFAULT, EFAULT), (LinuxErrno.EBUSY, EBUSY),
            (LinuxErrno.EEXIST, EEXIST), (LinuxErrno.EXDEV, EXDEV), (LinuxErrno.ENODEV, ENODEV),
            (LinuxErrno.ENOTDIR, ENOTDIR), (LinuxErrno.EISDIR, EISDIR), (LinuxErrno.EINVAL, EINVAL),
            (LinuxErrno.ENFILE, ENFILE), (LinuxErrno.EMFILE, EMFILE), (LinuxErrno.EFBIG, EFBIG),
            (LinuxErrno.ENOSPC, ENOSPC), (LinuxErrno.ESPIPE, ESPIPE), (LinuxErrno.EROFS, EROFS),
            (LinuxErrno.EMLINK, EMLINK), (LinuxErrno.ERANGE, ERANGE), (LinuxErrno.EDEADLK, EDEADLK),
            (LinuxErrno.ENAMETOOLONG, ENAMETOOLONG), (LinuxErrno.ENOLCK, ENOLCK), (LinuxErrno.ENOSYS, ENOSYS),
            (LinuxErrno.ENOTEMPTY, ENOTEMPTY), (LinuxErrno.ELOOP, ELOOP), (LinuxErrno.ENODATA, ENODATA),
            (LinuxErrno.EOVERFLOW, EOVERFLOW), (LinuxErrno.EPROTO, EPROTO), (LinuxErrno.EOPNOTSUPP, EOPNOTSUPP),
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
