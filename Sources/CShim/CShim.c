// The shim's definitions. Package.swift compiles this file with _GNU_SOURCE;
// include/CShim.h, which Swift imports, does not define it.
#include "CShim.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/io_uring.h>
#include <linux/capability.h>
#include <linux/seccomp.h>

#ifndef _GNU_SOURCE
#error "CShim.c needs _GNU_SOURCE (set in Package.swift's cSettings)"
#endif

const int shim_O_PATH = O_PATH;
const int shim_AT_EMPTY_PATH = AT_EMPTY_PATH;
const unsigned shim_RENAME_NOREPLACE = RENAME_NOREPLACE;
const unsigned shim_RENAME_EXCHANGE = RENAME_EXCHANGE;
const unsigned shim_RENAME_WHITEOUT = RENAME_WHITEOUT;
const int shim_F_OFD_GETLK = F_OFD_GETLK;
const int shim_F_OFD_SETLK = F_OFD_SETLK;
const int shim_F_OFD_SETLKW = F_OFD_SETLKW;
const int shim_CLONE_NEWNS = CLONE_NEWNS;
const int shim_CLONE_NEWNET = CLONE_NEWNET;
const int shim_CLONE_NEWPID = CLONE_NEWPID;
const int shim_CLONE_NEWIPC = CLONE_NEWIPC;
const int shim_CLONE_NEWUSER = CLONE_NEWUSER;
const int shim_MSG_CMSG_CLOEXEC = MSG_CMSG_CLOEXEC;
const int shim_RLIMIT_NOFILE = RLIMIT_NOFILE;

const int shim_O_NOFOLLOW = O_NOFOLLOW;
const int shim_O_DIRECTORY = O_DIRECTORY;
const int shim_O_CLOEXEC = O_CLOEXEC;
const int shim_AT_SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
const int shim_AT_REMOVEDIR = AT_REMOVEDIR;
const int shim_AT_FDCWD = AT_FDCWD;
const unsigned long shim_FUSE_DEV_IOC_CLONE = _IOR(229, 0, uint32_t);
const unsigned long shim_MS_NOSUID = MS_NOSUID;
const unsigned long shim_MS_NODEV = MS_NODEV;
const unsigned long shim_MS_RDONLY = MS_RDONLY;
const int shim_MNT_DETACH = MNT_DETACH;
const long shim_UTIME_NOW = UTIME_NOW;
const long shim_UTIME_OMIT = UTIME_OMIT;
const int shim_LOG_PID = LOG_PID;
const int shim_LOG_NDELAY = LOG_NDELAY;
const int shim_LOG_DAEMON = LOG_DAEMON;
const int shim_PR_CAPBSET_DROP = PR_CAPBSET_DROP;
const int shim_PR_CAPBSET_READ = PR_CAPBSET_READ;
const int shim_PR_SET_NO_NEW_PRIVS = PR_SET_NO_NEW_PRIVS;
const int shim_PR_CAP_AMBIENT = PR_CAP_AMBIENT;
const int shim_PR_CAP_AMBIENT_CLEAR_ALL = PR_CAP_AMBIENT_CLEAR_ALL;
const int shim_PR_SET_SECCOMP = PR_SET_SECCOMP;
const int shim_PR_SET_PDEATHSIG = PR_SET_PDEATHSIG;
const uint32_t shim_AUDIT_ARCH_X86_64 = AUDIT_ARCH_X86_64;
const uint32_t shim_AUDIT_ARCH_AARCH64 = AUDIT_ARCH_AARCH64;

int shim_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}
int shim_memfd_create(const char *name, unsigned flags) { return memfd_create(name, flags); }
ssize_t shim_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len, unsigned flags) {
    return copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
}
int shim_fallocate(int fd, int mode, off_t offset, off_t len) { return fallocate(fd, mode, offset, len); }
int shim_syncfs(int fd) { return syncfs(fd); }
ssize_t shim_getdents64(int fd, void *buffer, size_t length) { return getdents64(fd, buffer, length); }
int shim_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }
int shim_unshare(int flags) { return unshare(flags); }
int shim_pivot_root(const char *new_root, const char *put_old) { return (int)syscall(SYS_pivot_root, new_root, put_old); }

int shim_openat(int dirfd, const char *path, int flags, unsigned mode) { return openat(dirfd, path, flags, mode); }
int shim_fcntl_lock(int fd, int cmd, struct flock *lock) { return fcntl(fd, cmd, lock); }
int shim_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }

int shim_bind(int fd, const struct sockaddr *address, socklen_t length) { return bind(fd, address, length); }
int shim_connect(int fd, const struct sockaddr *address, socklen_t length) { return connect(fd, address, length); }
int shim_eventfd(unsigned initval) { return eventfd(initval, EFD_CLOEXEC); }

size_t shim_cmsg_space(size_t payload) { return CMSG_SPACE(payload); }
size_t shim_cmsg_len(size_t payload) { return CMSG_LEN(payload); }
struct cmsghdr *shim_cmsg_firsthdr(struct msghdr *msg) { return CMSG_FIRSTHDR(msg); }
struct cmsghdr *shim_cmsg_nxthdr(struct msghdr *msg, struct cmsghdr *cmsg) { return CMSG_NXTHDR(msg, cmsg); }
unsigned char *shim_cmsg_data(struct cmsghdr *cmsg) { return CMSG_DATA(cmsg); }

int shim_thread_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
int shim_thread_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }

int shim_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
int shim_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
    return prctl(option, a, b, c, d);
}

int shim_ioctl_fuse_clone(int fd, uint32_t session_fd) { return ioctl(fd, _IOR(229, 0, uint32_t), &session_fd); }

int shim_io_uring_setup(unsigned entries, unsigned flags, struct shim_uring_layout *layout) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = flags;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0) return -1;
    *layout = (struct shim_uring_layout){
        .sq_entries = params.sq_entries, .cq_entries = params.cq_entries, .features = params.features,
        .sq_head = params.sq_off.head, .sq_tail = params.sq_off.tail,
        .sq_ring_mask = params.sq_off.ring_mask, .sq_array = params.sq_off.array,
        .cq_head = params.cq_off.head, .cq_tail = params.cq_off.tail,
        .cq_ring_mask = params.cq_off.ring_mask, .cq_cqes = params.cq_off.cqes,
    };
    return fd;
}
int shim_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}
void shim_uring_prep_cmd(void *sqe, int fd, uint32_t cmd_op, const void *cmd, size_t cmd_length,
                         uint64_t addr, uint32_t length, uint64_t user_data) {
    struct io_uring_sqe *e = sqe;
    memset(e, 0, 2 * sizeof *e); // SQE128: the command area runs into the second half
    e->opcode = IORING_OP_URING_CMD;
    e->fd = fd;
    e->cmd_op = cmd_op;
    e->addr = addr;
    e->len = length;
    e->user_data = user_data;
    if (cmd_length > 80) cmd_length = 80;
    memcpy(e->cmd, cmd, cmd_length);
}
void shim_uring_prep_read(void *sqe, int fd, void *buffer, uint32_t length, uint64_t user_data) {
    struct io_uring_sqe *e = sqe;
    memset(e, 0, 2 * sizeof *e);
    e->opcode = IORING_OP_READ;
    e->fd = fd;
    e->addr = (uint64_t)(uintptr_t)buffer;
    e->len = length;
    e->off = (uint64_t)-1; // the file position (an eventfd has none)
    e->user_data = user_data;
}
const unsigned shim_IORING_SETUP_SQE128 = IORING_SETUP_SQE128;
const unsigned shim_IORING_SETUP_SINGLE_ISSUER = IORING_SETUP_SINGLE_ISSUER;
const unsigned shim_IORING_SETUP_DEFER_TASKRUN = IORING_SETUP_DEFER_TASKRUN;
const unsigned shim_IORING_SETUP_COOP_TASKRUN = IORING_SETUP_COOP_TASKRUN;
const unsigned shim_IORING_ENTER_GETEVENTS = IORING_ENTER_GETEVENTS;
const unsigned shim_IORING_FEAT_SINGLE_MMAP = IORING_FEAT_SINGLE_MMAP;
const uint64_t shim_IORING_OFF_SQ_RING = IORING_OFF_SQ_RING;
const uint64_t shim_IORING_OFF_CQ_RING = IORING_OFF_CQ_RING;
const uint64_t shim_IORING_OFF_SQES = IORING_OFF_SQES;
int shim_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int shim_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return mount(source, target, type, flags, data);
}
int shim_umount2(const char *target, int flags) { return umount2(target, flags); }

int shim_handle_of_fd(int fd, int *type, unsigned char *bytes, int *mount_id) {
    unsigned char storage[sizeof(struct file_handle) + 128] __attribute__((aligned(8)));
    struct file_handle *handle = (struct file_handle *)storage;
    handle->handle_bytes = 128;
    if (name_to_handle_at(fd, "", handle, mount_id, AT_EMPTY_PATH) != 0) return -1;
    *type = handle->handle_type;
    memcpy(bytes, handle->f_handle, handle->handle_bytes);
    return (int)handle->handle_bytes;
}

int shim_open_by_handle(int mount_fd, int type, const unsigned char *bytes, unsigned length, int flags) {
    unsigned char storage[sizeof(struct file_handle) + 128] __attribute__((aligned(8)));
    struct file_handle *handle = (struct file_handle *)storage;
    if (length > 128) { errno = EINVAL; return -1; }
    handle->handle_bytes = length;
    handle->handle_type = type;
    memcpy(handle->f_handle, bytes, length);
    return open_by_handle_at(mount_fd, handle, flags);
}

int shim_errno(void) { return errno; }

void shim_syslog(int priority, const char *message) { syslog(priority, "%s", message); }

int shim_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
        { (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
    };
    return (int)syscall(SYS_capset, &header, data);
}

int shim_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    *effective = (uint64_t)data[1].effective << 32 | data[0].effective;
    *permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
    *inheritable = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
    return 0;
}

int shim_seccomp_install(struct sock_filter *filter, unsigned short count) {
    struct sock_fprog program = { count, filter };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}
