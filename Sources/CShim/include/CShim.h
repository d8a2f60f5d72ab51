// What Swift cannot import from Glibc on its own: GNU-only declarations
// (epoll, eventfd, memfd, O_PATH, renameat2, AT_EMPTY_PATH, ...) and the
// CMSG_* macros for passing file descriptors over Unix sockets.
#ifndef SWIFTFS_CSHIM_H
#define SWIFTFS_CSHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>
#include <stdio.h>

static const int shim_O_PATH = O_PATH;
static const int shim_O_NOFOLLOW = O_NOFOLLOW;
static const int shim_O_DIRECTORY = O_DIRECTORY;
static const int shim_O_CLOEXEC = O_CLOEXEC;
static const int shim_AT_EMPTY_PATH = AT_EMPTY_PATH;
static const int shim_AT_SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
static const int shim_AT_REMOVEDIR = AT_REMOVEDIR;
static const int shim_AT_FDCWD = AT_FDCWD;
static const unsigned shim_RENAME_NOREPLACE = RENAME_NOREPLACE;
static const unsigned shim_RENAME_EXCHANGE = RENAME_EXCHANGE;
static const unsigned shim_RENAME_WHITEOUT = RENAME_WHITEOUT;

/// renameat2(2): glibc declares it only with _GNU_SOURCE.
static inline int shim_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

static inline int shim_memfd_create(const char *name, unsigned flags) { return memfd_create(name, flags); }

static inline ssize_t shim_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned flags) {
    return copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
}

static inline int shim_fallocate(int fd, int mode, off_t offset, off_t len) { return fallocate(fd, mode, offset, len); }

static inline int shim_syncfs(int fd) { return syncfs(fd); }

/// open(2) is variadic in C, which Swift imports only partially.
static inline int shim_openat(int dirfd, const char *path, int flags, unsigned mode) {
    return openat(dirfd, path, flags, mode);
}

/// fcntl(2) is variadic too.
static inline int shim_fcntl_lock(int fd, int cmd, struct flock *lock) { return fcntl(fd, cmd, lock); }
static inline int shim_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }
static const int shim_F_OFD_GETLK = F_OFD_GETLK;
static const int shim_F_OFD_SETLK = F_OFD_SETLK;
static const int shim_F_OFD_SETLKW = F_OFD_SETLKW;

// SCM_RIGHTS helpers: the CMSG_* macros.
static inline size_t shim_cmsg_space(size_t payload) { return CMSG_SPACE(payload); }
static inline size_t shim_cmsg_len(size_t payload) { return CMSG_LEN(payload); }
static inline struct cmsghdr *shim_cmsg_firsthdr(struct msghdr *msg) { return CMSG_FIRSTHDR(msg); }
static inline struct cmsghdr *shim_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg) { return CMSG_NXTHDR(msg, cmsg); }
static inline unsigned char *shim_cmsg_data(struct cmsghdr *cmsg) { return CMSG_DATA(cmsg); }

/// Thread-local credentials for the calling thread only (setresuid(2)
/// through glibc changes every thread of the process).
static inline int shim_thread_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
static inline int shim_thread_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }

static inline int shim_errno(void);
#include <errno.h>
static inline int shim_errno(void) { return errno; }

#endif
