import CShim
import FuseServer
import Glibc
import SwiftFSProtocol

/// Runs file-creating operations as the calling guest user, so new files get
/// the caller's owner and the host checks the caller's permissions. The
/// switch is per thread (raw setresuid/setresgid system calls; glibc's
/// wrappers would change every thread of the process), so concurrent
/// requests of different users do not interfere.
struct Credentials {
    /// Only root can switch; otherwise operations run as the daemon's user.
    static let canSwitch = geteuid() == 0

    static func asCaller<R>(_ context: RequestContext, _ body: () throws(Errno) -> R) throws(Errno) -> R {
        guard canSwitch, context.uid != 0 || context.gid != 0 else { return try body() }
        // -1 means "unchanged" to setresuid/setresgid: the request would run as
        // root. The kernel never sends it (EOVERFLOW for unmapped ids); refuse it.
        guard context.uid != uid_t.max, context.gid != gid_t.max else { throw Errno.EINVAL }
        // The group first: once the uid is not 0 we may no longer change it.
        if context.gid != 0 {
            guard shim_thread_setresgid(gid_t.max, context.gid, gid_t.max) == 0 else { throw Errno.current }
        }
        if context.uid != 0 {
            guard shim_thread_setresuid(uid_t.max, context.uid, uid_t.max) == 0 else {
                // The request fails; the group must come back before this thread serves another.
                let error = Errno.current
                backToRoot(uid: false, gid: context.gid != 0)
                throw error
            }
        }
        defer { backToRoot(uid: context.uid != 0, gid: context.gid != 0) }
        return try body()
    }

    /// Back to root (the saved uid is still 0), then the group. This cannot
    /// fail short of a broken kernel or a filter; if it does, this worker
    /// thread would serve the next requests with a guest user's identity, so
    /// the daemon stops rather than go on (as virtiofsd panics).
    private static func backToRoot(uid: Bool, gid: Bool) {
        if uid && shim_thread_setresuid(uid_t.max, 0, uid_t.max) != 0 {
            fatalError("cannot switch back to uid 0: errno \(errno)")
        }
        if gid && shim_thread_setresgid(gid_t.max, 0, gid_t.max) != 0 {
            fatalError("cannot switch back to gid 0: errno \(errno)")
        }
    }
}

extension Credentials {
    private static let fileSetID: UInt64 = 1 << 4 // CAP_FSETID

    /// Runs `body` as a caller without CAP_FSETID, for a write, truncation
    /// or O_TRUNC the guest marked KILL_SUIDGID (its caller lacks the
    /// capability). The host kernel then clears suid, and sgid of a
    /// group-executable file, itself, under the inode lock and before the
    /// data changes, as it would for such a local caller; clearing them with
    /// our own fchmod would race with a concurrent chmod. Capabilities are
    /// per thread (capset with pid 0), so other requests keep theirs. A
    /// thread without CAP_FSETID (not root, or a caller's uid) runs `body` as is.
    static func withoutFileSetID<R: ~Copyable>(_ body: () throws(Errno) -> R) throws(Errno) -> R {
        var effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0
        guard shim_capget(&effective, &permitted, &inheritable) == 0 else { throw Errno.current }
        guard effective & fileSetID != 0 else { return try body() }
        guard shim_capset(effective & ~fileSetID, permitted, inheritable) == 0 else { throw Errno.current }
        // As with backToRoot: a thread that kept serving without CAP_FSETID would
        // clear suid/sgid on writes of guest root; stop instead.
        defer {
            if shim_capset(effective, permitted, inheritable) != 0 {
                fatalError("cannot regain CAP_FSETID: errno \(errno)")
            }
        }
        return try body()
    }
}
