import ArgumentParser
import CShim
import Glibc

/// `--seccomp none|kill|log|trap`: after the sandbox and the capability
/// drop, the daemon allows itself only the system calls it makes (a BPF
/// allowlist of our own, as virtiofsd's). Anything else kills the process
/// (`kill`, the default), is logged by the kernel and allowed (`log`), or
/// raises SIGSYS (`trap`). x86-64 only; elsewhere only `none`.
enum SeccompAction: String, CaseIterable, Sendable, ExpressibleByArgument {
    case none, kill, log, trap

    var returnValue: UInt32 {
        switch self {
        case .none: 0x7fff_0000 // SECCOMP_RET_ALLOW
        case .kill: 0x8000_0000 // SECCOMP_RET_KILL_PROCESS
        case .log: 0x7ffc_0000 // SECCOMP_RET_LOG
        case .trap: 0x0003_0000 // SECCOMP_RET_TRAP
        }
    }
}

enum SeccompFilter {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    #if arch(x86_64)
    static let supported = true
    /// What the daemon, the Swift runtime and glibc call while serving, found by
    /// tracing the Linux-guest check, the unikernel selftest and the host mount
    /// check, plus the calls of rarer paths read from the code.
    static let allowed: [Int32] = [
        // I/O on files, directories, sockets, eventfds
        __NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64, __NR_pwrite64, __NR_preadv, __NR_pwritev,
        __NR_preadv2, __NR_pwritev2, __NR_lseek, __NR_close, __NR_openat, __NR_openat2, __NR_getdents64,
        __NR_fstat, __NR_newfstatat, __NR_statx, __NR_fstatfs, __NR_statfs, __NR_faccessat, __NR_faccessat2,
        __NR_fsync, __NR_fdatasync, __NR_syncfs, __NR_ftruncate, __NR_fallocate, __NR_copy_file_range,
        __NR_fcntl, __NR_flock, __NR_ioctl, __NR_dup, __NR_dup3, __NR_readlinkat, __NR_readlink, __NR_access,
        __NR_mkdirat, __NR_mknodat, __NR_symlinkat, __NR_linkat, __NR_unlinkat, __NR_renameat, __NR_renameat2,
        __NR_fchmod, __NR_fchmodat, __NR_fchown, __NR_fchownat, __NR_utimensat,
        __NR_fsetxattr, __NR_fgetxattr, __NR_flistxattr, __NR_fremovexattr,
        // File handles instead of descriptors for inodes (--inode-file-handles)
        __NR_name_to_handle_at, __NR_open_by_handle_at,
        __NR_recvmsg, __NR_sendmsg, __NR_sendto, __NR_recvfrom, __NR_socket, __NR_connect, __NR_accept4,
        __NR_shutdown, __NR_getsockopt, __NR_poll, __NR_ppoll, __NR_epoll_create1, __NR_epoll_ctl,
        __NR_epoll_wait, __NR_epoll_pwait, __NR_eventfd2, __NR_pipe2,
        // Memory: guest memory maps, the Swift heap
        __NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_madvise, __NR_brk,
        // Threads, signals, time
        __NR_clone, __NR_clone3, __NR_set_robust_list, __NR_rseq, __NR_futex, __NR_exit, __NR_exit_group,
        __NR_gettid, __NR_getpid, __NR_tgkill, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
        __NR_rt_sigtimedwait, __NR_sigaltstack, __NR_sched_yield, __NR_sched_getaffinity, __NR_nanosleep,
        __NR_clock_nanosleep, __NR_clock_gettime, __NR_gettimeofday, __NR_getrandom, __NR_prctl,
        __NR_prlimit64, __NR_getrlimit, __NR_uname, __NR_set_tid_address,
        // Acting as the caller (per thread); CAP_FSETID dropped for a killpriv write, within the kept set
        __NR_setresuid, __NR_setresgid, __NR_geteuid, __NR_getuid, __NR_getegid, __NR_getgid, __NR_capget, __NR_capset,
        // --fuse-mount unmounts at exit
        __NR_umount2,
    ].map { Int32($0) }
    static let architecture = shim_AUDIT_ARCH_X86_64
    #else
    static let supported = false
    static let allowed: [Int32] = []
    static let architecture: UInt32 = 0
    #endif

    // Classic BPF opcodes (the BPF_STMT/BPF_JUMP macros' values).
    private static let loadWord: UInt16 = 0x20 // BPF_LD | BPF_W | BPF_ABS
    private static let jumpIfEqual: UInt16 = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
    private static let jumpIfGreaterOrEqual: UInt16 = 0x35 // BPF_JMP | BPF_JGE | BPF_K
    private static let returnConstant: UInt16 = 0x06 // BPF_RET | BPF_K
    private static let allow: UInt32 = 0x7fff_0000

    /// The program: wrong architecture or x32 → the action; an allowed number → allow; else the action.
    static func program(action: SeccompAction) -> [sock_filter] {
        var code: [sock_filter] = []
        let denied = action.returnValue
        // struct seccomp_data: nr at 0, arch at 4.
        code.append(sock_filter(code: loadWord, jt: 0, jf: 0, k: 4))
        code.append(sock_filter(code: jumpIfEqual, jt: 1, jf: 0, k: architecture))
        code.append(sock_filter(code: returnConstant, jt: 0, jf: 0, k: denied))
        code.append(sock_filter(code: loadWord, jt: 0, jf: 0, k: 0))
        // x32 system calls (bit 30) never match the allowlist below anyway; refuse them outright.
        code.append(sock_filter(code: jumpIfGreaterOrEqual, jt: 0, jf: 1, k: 0x4000_0000))
        code.append(sock_filter(code: returnConstant, jt: 0, jf: 0, k: denied))
        for number in Set(allowed).sorted() {
            code.append(sock_filter(code: jumpIfEqual, jt: 0, jf: 1, k: UInt32(number)))
            code.append(sock_filter(code: returnConstant, jt: 0, jf: 0, k: allow))
        }
        code.append(sock_filter(code: returnConstant, jt: 0, jf: 0, k: denied))
        return code
    }

    /// Installs the filter on the calling thread (call before other threads
    /// start; they inherit it). Needs no_new_privs (CapabilitySet.enter sets it).
    static func enter(_ action: SeccompAction) throws(Failure) {
        guard action != .none else { return }
        guard supported else { throw Failure(description: "--seccomp=\(action.rawValue): only supported on x86-64") }
        var code = program(action: action)
        let result = code.withUnsafeMutableBufferPointer { shim_seccomp_install($0.baseAddress, UInt16($0.count)) }
        if result != 0 { throw Failure(description: "seccomp: \(String(cString: strerror(errno)))") }
    }
}
