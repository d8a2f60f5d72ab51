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
#include <syslog.h>
#include <unistd.h>
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <sys/resource.h>

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

// Virtqueue rings live in memory shared with the guest: index loads and
// stores need real acquire/release ordering, and the EVENT_IDX handshake a
// full fence, which Swift cannot express on raw pointers.
static inline uint16_t shim_load_acquire_u16(const void *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE); }
static inline void shim_store_release_u16(void *p, uint16_t v) { __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE); }
static inline void shim_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Sandboxing: unshare(2) is GNU-only, pivot_root(2) has no glibc wrapper.
#include <sched.h>
static const int shim_CLONE_NEWNS = CLONE_NEWNS;
static const int shim_CLONE_NEWNET = CLONE_NEWNET;
static inline int shim_unshare(int flags) { return unshare(flags); }
static inline int shim_pivot_root(const char *new_root, const char *put_old) { return (int)syscall(SYS_pivot_root, new_root, put_old); }
static const int shim_MSG_CMSG_CLOEXEC = MSG_CMSG_CLOEXEC;

/// Names the calling thread (shown by top and gdb); prctl(2) is variadic.
static inline int shim_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
/// accept4(2) takes a transparent union Swift cannot build from nil.
static inline int shim_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }
static inline int shim_bind(int fd, const struct sockaddr *address, socklen_t length) { return bind(fd, address, length); }
static inline int shim_connect(int fd, const struct sockaddr *address, socklen_t length) { return connect(fd, address, length); }
static inline int shim_eventfd(unsigned initval) { return eventfd(initval, EFD_CLOEXEC); }

/// getdents64(2): glibc declares it only with _GNU_SOURCE.
static inline ssize_t shim_getdents64(int fd, void *buffer, size_t length) { return getdents64(fd, buffer, length); }

/// FUSE_DEV_IOC_CLONE (linux/fuse.h): attach a new /dev/fuse descriptor to an
/// existing session, so each worker thread reads from its own descriptor.
static const unsigned long shim_FUSE_DEV_IOC_CLONE = _IOR(229, 0, uint32_t);
static inline int shim_ioctl_fuse_clone(int fd, uint32_t session_fd) { return ioctl(fd, _IOR(229, 0, uint32_t), &session_fd); }

/// mount(2) and umount2(2) for /dev/fuse mounts.
static inline int shim_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return mount(source, target, type, flags, data);
}
static inline int shim_umount2(const char *target, int flags) { return umount2(target, flags); }
static const unsigned long shim_MS_NOSUID = MS_NOSUID;
static const unsigned long shim_MS_NODEV = MS_NODEV;
static const unsigned long shim_MS_RDONLY = MS_RDONLY;
static const int shim_MNT_DETACH = MNT_DETACH;

/// utimensat(2) special values.
static const long shim_UTIME_NOW = UTIME_NOW;
static const long shim_UTIME_OMIT = UTIME_OMIT;

// Kernel file handles: identify a file without keeping a descriptor open.
// struct file_handle ends in a flexible array, which Swift cannot build, so
// these copy the handle in and out of a fixed buffer of MAX_HANDLE_SZ bytes.
static const unsigned shim_MAX_HANDLE_SZ = 128;

/// name_to_handle_at(fd, "", AT_EMPTY_PATH): the handle of the file `fd` refers
/// to. Writes its type, bytes (at most 128) and mount id; returns the byte count, or -1 and errno.
static inline int shim_handle_of_fd(int fd, int *type, unsigned char *bytes, int *mount_id) {
    unsigned char storage[sizeof(struct file_handle) + 128] __attribute__((aligned(8)));
    struct file_handle *handle = (struct file_handle *)storage;
    handle->handle_bytes = 128;
    if (name_to_handle_at(fd, "", handle, mount_id, AT_EMPTY_PATH) != 0) return -1;
    *type = handle->handle_type;
    memcpy(bytes, handle->f_handle, handle->handle_bytes);
    return (int)handle->handle_bytes;
}

/// open_by_handle_at(mount_fd, handle, flags) for a handle from shim_handle_of_fd.
static inline int shim_open_by_handle(int mount_fd, int type, const unsigned char *bytes, unsigned length, int flags) {
    unsigned char storage[sizeof(struct file_handle) + 128] __attribute__((aligned(8)));
    struct file_handle *handle = (struct file_handle *)storage;
    if (length > 128) { errno = EINVAL; return -1; }
    handle->handle_bytes = length;
    handle->handle_type = type;
    memcpy(handle->f_handle, bytes, length);
    return open_by_handle_at(mount_fd, handle, flags);
}

static inline int shim_errno(void);
#include <errno.h>
static inline int shim_errno(void) { return errno; }

/// syslog(3) is variadic: log one preformatted message.
static inline void shim_syslog(int priority, const char *message) { syslog(priority, "%s", message); }
static const int shim_LOG_PID = LOG_PID;
static const int shim_LOG_NDELAY = LOG_NDELAY;
static const int shim_LOG_DAEMON = LOG_DAEMON;

/// Capabilities of the calling thread (capget/capset have no glibc wrapper).
#include <linux/capability.h>
static inline int shim_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
        { (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
    };
    return (int)syscall(SYS_capset, &header, data);
}
/// prctl(2) is variadic.
static inline int shim_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
    return prctl(option, a, b, c, d);
}
static const int shim_PR_CAPBSET_DROP = PR_CAPBSET_DROP;
static const int shim_PR_CAPBSET_READ = PR_CAPBSET_READ;
static const int shim_PR_SET_NO_NEW_PRIVS = PR_SET_NO_NEW_PRIVS;
static const int shim_PR_CAP_AMBIENT = PR_CAP_AMBIENT;
static const int shim_PR_CAP_AMBIENT_CLEAR_ALL = PR_CAP_AMBIENT_CLEAR_ALL;

/// seccomp: the BPF types and the constants behind macros Swift cannot evaluate.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
static const uint32_t shim_AUDIT_ARCH_X86_64 = AUDIT_ARCH_X86_64;
static const uint32_t shim_AUDIT_ARCH_AARCH64 = AUDIT_ARCH_AARCH64;
static const int shim_PR_SET_SECCOMP = PR_SET_SECCOMP;
static inline int shim_seccomp_install(struct sock_filter *filter, unsigned short count) {
    struct sock_fprog program = { count, filter };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

#endif
