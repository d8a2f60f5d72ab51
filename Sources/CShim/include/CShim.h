// What Swift cannot import from Glibc on its own: GNU-only declarations
// (memfd, O_PATH, renameat2, AT_EMPTY_PATH, ...), variadic calls, and the
// CMSG_* macros for passing file descriptors over Unix sockets.
//
// This header must see the C library exactly as the Glibc module does, so it
// does not define _GNU_SOURCE: everything GNU-only is defined in CShim.c,
// which is compiled with _GNU_SOURCE, and declared here as a plain function
// or an `extern const`. Swift targets then need no special flags.
#ifndef SWIFTFS_CSHIM_H
#define SWIFTFS_CSHIM_H

// System headers Swift code reaches through `import CShim` (epoll, xattr,
// statvfs, ...), seen without _GNU_SOURCE like the Glibc module sees them.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

// GNU-only constants, defined in CShim.c.
extern const int shim_O_PATH;
extern const int shim_AT_EMPTY_PATH;
extern const unsigned shim_RENAME_NOREPLACE;
extern const unsigned shim_RENAME_EXCHANGE;
extern const unsigned shim_RENAME_WHITEOUT;
extern const int shim_F_OFD_GETLK;
extern const int shim_F_OFD_SETLK;
extern const int shim_F_OFD_SETLKW;
extern const int shim_CLONE_NEWNS;
extern const int shim_CLONE_NEWNET;
extern const int shim_CLONE_NEWPID;
extern const int shim_CLONE_NEWIPC;
extern const int shim_CLONE_NEWUSER;
extern const int shim_MSG_CMSG_CLOEXEC;
/// getrlimit(2) takes an int without _GNU_SOURCE, an enum with it.
extern const int shim_RLIMIT_NOFILE;

// Constants behind macros Swift cannot evaluate (or kept here beside the calls
// that take them), defined in CShim.c.
extern const int shim_O_NOFOLLOW;
extern const int shim_O_DIRECTORY;
extern const int shim_O_CLOEXEC;
extern const int shim_AT_SYMLINK_NOFOLLOW;
extern const int shim_AT_REMOVEDIR;
extern const int shim_AT_FDCWD;
extern const unsigned long shim_FUSE_DEV_IOC_CLONE;
extern const unsigned long shim_MS_NOSUID;
extern const unsigned long shim_MS_NODEV;
extern const unsigned long shim_MS_RDONLY;
extern const int shim_MNT_DETACH;
extern const long shim_UTIME_NOW;
extern const long shim_UTIME_OMIT;
extern const int shim_LOG_PID;
extern const int shim_LOG_NDELAY;
extern const int shim_LOG_DAEMON;
extern const int shim_PR_CAPBSET_DROP;
extern const int shim_PR_CAPBSET_READ;
extern const int shim_PR_SET_NO_NEW_PRIVS;
extern const int shim_PR_CAP_AMBIENT;
extern const int shim_PR_CAP_AMBIENT_CLEAR_ALL;
extern const int shim_PR_SET_SECCOMP;
extern const int shim_PR_SET_PDEATHSIG;
extern const uint32_t shim_AUDIT_ARCH_X86_64;
extern const uint32_t shim_AUDIT_ARCH_AARCH64;

/// Kernel file handles hold at most this many bytes (MAX_HANDLE_SZ).
static const unsigned shim_MAX_HANDLE_SZ = 128;

/// renameat2(2): glibc declares it only with _GNU_SOURCE.
int shim_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
int shim_memfd_create(const char *name, unsigned flags);
ssize_t shim_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned flags);
int shim_fallocate(int fd, int mode, off_t offset, off_t len);
int shim_syncfs(int fd);
/// getdents64(2): glibc declares it only with _GNU_SOURCE.
ssize_t shim_getdents64(int fd, void *buffer, size_t length);
/// accept4(2) with SOCK_CLOEXEC (it also takes a transparent union Swift cannot build from nil).
int shim_accept_cloexec(int fd);
/// unshare(2) is GNU-only; pivot_root(2) has no glibc wrapper.
int shim_unshare(int flags);
int shim_pivot_root(const char *new_root, const char *put_old);

/// open(2) and fcntl(2) are variadic in C, which Swift imports only partially.
int shim_openat(int dirfd, const char *path, int flags, unsigned mode);
int shim_fcntl_lock(int fd, int cmd, struct flock *lock);
int shim_fcntl_int(int fd, int cmd, int arg);

/// bind(2)/connect(2) take a transparent union in glibc.
int shim_bind(int fd, const struct sockaddr *address, socklen_t length);
int shim_connect(int fd, const struct sockaddr *address, socklen_t length);
/// An eventfd with EFD_CLOEXEC.
int shim_eventfd(unsigned initval);

// SCM_RIGHTS helpers: the CMSG_* macros.
size_t shim_cmsg_space(size_t payload);
size_t shim_cmsg_len(size_t payload);
struct cmsghdr *shim_cmsg_firsthdr(struct msghdr *msg);
struct cmsghdr *shim_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg);
unsigned char *shim_cmsg_data(struct cmsghdr *cmsg);

/// Thread-local credentials for the calling thread only (setresuid(2)
/// through glibc changes every thread of the process).
int shim_thread_setresuid(uid_t r, uid_t e, uid_t s);
int shim_thread_setresgid(gid_t r, gid_t e, gid_t s);

/// Names the calling thread (shown by top and gdb); prctl(2) is variadic.
int shim_set_thread_name(const char *name);
/// prctl(2) is variadic.
int shim_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d);

/// FUSE_DEV_IOC_CLONE (linux/fuse.h): attach a new /dev/fuse descriptor to an
/// existing session, so each worker thread reads from its own descriptor.
int shim_ioctl_fuse_clone(int fd, uint32_t session_fd);

// FUSE over io_uring (--fuse-mount -o io_uring): io_uring_setup(2) and
// io_uring_enter(2) have no glibc wrapper and syscall(2) is variadic; the
// SQE and params structs hold unions, so they are filled here. CShim.c sees
// <linux/io_uring.h>; this header does not (it clashes with <sys/mount.h>).

/// Where io_uring_setup put the ring fields (byte offsets into the two mmaps).
struct shim_uring_layout {
    uint32_t sq_entries, cq_entries, features;
    uint32_t sq_head, sq_tail, sq_ring_mask, sq_array;
    uint32_t cq_head, cq_tail, cq_ring_mask, cq_cqes;
};
/// io_uring_setup with `flags`; returns the ring descriptor or -1 and errno.
int shim_io_uring_setup(unsigned entries, unsigned flags, struct shim_uring_layout *layout);
int shim_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags);
/// Fills a 128-byte SQE: IORING_OP_URING_CMD on `fd` with `cmd_op` and up to
/// 80 bytes of command (`cmd`), an address and length, and user data.
void shim_uring_prep_cmd(void *sqe, int fd, uint32_t cmd_op, const void *cmd, size_t cmd_length,
                         uint64_t addr, uint32_t length, uint64_t user_data);
/// Fills a 128-byte SQE: IORING_OP_READ of `length` bytes into `buffer`.
void shim_uring_prep_read(void *sqe, int fd, void *buffer, uint32_t length, uint64_t user_data);
extern const unsigned shim_IORING_SETUP_SQE128;
extern const unsigned shim_IORING_SETUP_SINGLE_ISSUER;
extern const unsigned shim_IORING_SETUP_DEFER_TASKRUN;
extern const unsigned shim_IORING_SETUP_COOP_TASKRUN;
extern const unsigned shim_IORING_ENTER_GETEVENTS;
extern const unsigned shim_IORING_FEAT_SINGLE_MMAP;
extern const uint64_t shim_IORING_OFF_SQ_RING;
extern const uint64_t shim_IORING_OFF_CQ_RING;
extern const uint64_t shim_IORING_OFF_SQES;
/// Pins the calling thread to one CPU (sched_setaffinity and CPU_SET are GNU-only).
int shim_pin_to_cpu(int cpu);

/// mount(2) and umount2(2) for /dev/fuse mounts.
int shim_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data);
int shim_umount2(const char *target, int flags);

// Kernel file handles: identify a file without keeping a descriptor open.
// struct file_handle ends in a flexible array, which Swift cannot build, so
// these copy the handle in and out of a fixed buffer of MAX_HANDLE_SZ bytes.

/// name_to_handle_at(fd, "", AT_EMPTY_PATH): the handle of the file `fd` refers
/// to. Writes its type, bytes (at most 128) and mount id; returns the byte count, or -1 and errno.
int shim_handle_of_fd(int fd, int *type, unsigned char *bytes, int *mount_id);
/// open_by_handle_at(mount_fd, handle, flags) for a handle from shim_handle_of_fd.
int shim_open_by_handle(int mount_fd, int type, const unsigned char *bytes, unsigned length, int flags);

/// errno is a macro over a thread-local.
int shim_errno(void);

/// syslog(3) is variadic: log one preformatted message.
void shim_syslog(int priority, const char *message);

/// Capabilities of the calling thread (capget/capset have no glibc wrapper).
int shim_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int shim_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);

/// seccomp: install a BPF filter (the program struct and mode are macros).
int shim_seccomp_install(struct sock_filter *filter, unsigned short count);

// Virtqueue rings live in memory shared with the guest: index loads and
// stores need real acquire/release ordering, and the EVENT_IDX handshake a
// full fence, which Swift cannot express on raw pointers. Inline: they sit
// on the request path, and need nothing GNU-only.
static inline uint16_t shim_load_acquire_u16(const void *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE); }
static inline void shim_store_release_u16(void *p, uint16_t v) { __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE); }
static inline uint32_t shim_load_acquire_u32(const void *p) { return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); }
static inline void shim_store_release_u32(void *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }
static inline void shim_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#endif
