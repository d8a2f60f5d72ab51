import CShim
import Glibc
import SystemSupport

/// Confines the daemon to the shared directory after everything outside it
/// (the socket, the shared directory's root descriptor) has been opened.
///
/// `namespace` happens in two steps, as in virtiofsd: `createNamespaces`
/// before the share is opened (new user namespace when not root, PID, mount,
/// network and IPC namespaces, a fresh /proc; the serving process is a
/// child, PID 1 of the new PID namespace), then `enter` pivots into the share.
enum Sandbox {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `--sandbox namespace`, first step. Forks: this returns only in the
    /// child, the serving process. The parent stays outside the namespaces:
    /// it closes `parentCloses`, keeps only the capabilities to remove files
    /// (`CapabilitySet.supervisor`), forwards SIGTERM/SIGINT/SIGHUP (`exitSignals`,
    /// already blocked) to the child, and when the child ends runs
    /// `parentCleanup` (removes the socket and pid file, which the confined
    /// child can no longer reach) and exits with the child's status.
    /// Returns whether the child is in a user namespace of its own (it then
    /// holds every capability there until `CapabilitySet.enter` drops them).
    /// Any namespace that cannot be created is an error: never unconfined.
    static func createNamespaces(exitSignals: sigset_t, parentCloses: [Int32],
                                 parentCleanup: () -> Void) throws(Failure) -> Bool {
        let userNamespace = geteuid() != 0
        if userNamespace {
            // Not root: a user namespace in which we may create the others,
            // mapping only our own uid and gid (as virtiofsd does).
            let uid = geteuid(), gid = getegid()
            try check(shim_unshare(shim_CLONE_NEWUSER),
                      "unshare(CLONE_NEWUSER): --sandbox namespace needs a user namespace when not run as root "
                      + "(or use --sandbox none)")
            // An unprivileged process may map its group only once setgroups is denied.
            try write("deny", to: "/proc/self/setgroups")
            try write("\(uid) \(uid) 1", to: "/proc/self/uid_map")
            try write("\(gid) \(gid) 1", to: "/proc/self/gid_map")
        }
        // A new PID namespace applies to children: the next fork makes its PID 1.
        try check(shim_unshare(shim_CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        var supervised = exitSignals
        sigaddset(&supervised, SIGCHLD)
        pthread_sigmask(SIG_BLOCK, &supervised, nil)
        let child = fork()
        guard child >= 0 else { throw Failure(description: "fork: \(String(cString: strerror(errno)))") }
        if child > 0 {
            for fd in parentCloses { close(fd) } // raw: this process never returns to their owners; it waits and exits
            do {
                try CapabilitySet.supervisor.enter(userNamespace: userNamespace)
            } catch {
                kill(child, SIGKILL)
                parentCleanup()
                let message = "swiftfsd: \(error)\n"
                _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
                exit(1)
            }
            supervise(child, signals: supervised, cleanup: parentCleanup)
        }

        // The serving process. If the parent dies (SIGKILL), stop too.
        _ = shim_prctl(shim_PR_SET_PDEATHSIG, UInt(SIGTERM), 0, 0, 0)
        // PID 1 of a namespace is sent no signal whose action is the default:
        // give the exit signals a handler (they stay blocked; the signal
        // thread takes them with sigwait).
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number) { _ in } }
        try check(shim_unshare(shim_CLONE_NEWNS | shim_CLONE_NEWNET | shim_CLONE_NEWIPC),
                  "unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)")
        // The pivot and the mounts below stay invisible to the host.
        try check(mount(nil, "/", nil, UInt(MS_REC | MS_SLAVE), nil), "mount --make-rslave /")
        // A /proc of the new PID namespace, over the host's (in this mount
        // namespace only): the passthrough opens /proc/self/fd from it before
        // the pivot detaches it, and the host's processes stay out of reach.
        try check(mount("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil), "mount a new /proc")
        return userNamespace
    }

    /// Closes every descriptor but `kept` (at start-up, before the daemon
    /// opens any): a descriptor inherited from the starter would otherwise
    /// stay open in the sandbox, reaching outside the share.
    static func closeInheritedDescriptors(keeping kept: [Int32]) {
        guard let directory = opendir("/proc/self/fd") else { return }
        let own = dirfd(directory)
        var inherited: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name), fd != own, !kept.contains(fd) { inherited.append(fd) }
        }
        closedir(directory)
        for fd in inherited { close(fd) } // raw: inherited from the starter, owned by nothing here
    }

    /// Second step, once the share and /proc/self/fd are open: chroot or pivot_root into the share.
    static func enter(_ mode: SandboxMode, sharedDirectory: String) throws(Failure) {
        switch mode {
        case .none:
            return
        case .chroot:
            try check(chdir(sharedDirectory), "chdir \(sharedDirectory)")
            try check(chroot("."), "chroot \(sharedDirectory)")
            try check(chdir("/"), "chdir /")
        case .namespace:
            // pivot_root needs a mount point: bind the shared directory onto itself.
            try check(mount(sharedDirectory, sharedDirectory, nil, UInt(MS_BIND | MS_REC), nil), "bind mount \(sharedDirectory)")
            try check(chdir(sharedDirectory), "chdir \(sharedDirectory)")
            // Stack the old root (with the new /proc) under the new one, then detach it.
            try check(shim_pivot_root(".", "."), "pivot_root")
            try check(umount2(".", Int32(MNT_DETACH)), "umount old root")
            try check(chdir("/"), "chdir /")
        }
    }

    /// Waits for the child, forwarding exit signals, then exits as it did.
    private static func supervise(_ child: pid_t, signals: sigset_t, cleanup: () -> Void) -> Never {
        var set = signals
        while true {
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { continue }
            guard received == SIGCHLD else {
                kill(child, received)
                continue
            }
            var status: Int32 = 0
            guard waitpid(child, &status, WNOHANG) == child else { continue }
            cleanup()
            let signalNumber = status & 0x7f
            if signalNumber != 0 {
                // Killed (e.g. SIGSYS by the seccomp filter): end the same way.
                signal(signalNumber, SIG_DFL)
                var only = sigset_t()
                sigemptyset(&only)
                sigaddset(&only, signalNumber)
                pthread_sigmask(SIG_UNBLOCK, &only, nil)
                raise(signalNumber)
                exit(128 + signalNumber)
            }
            exit((status >> 8) & 0xff)
        }
    }

    private static func write(_ text: String, to path: String) throws(Failure) {
        let raw = open(path, O_WRONLY | O_CLOEXEC)
        guard raw >= 0 else { throw Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        let fd = OwnedDescriptor(raw)
        let written = text.withCString { Glibc.write(fd.rawValue, $0, strlen($0)) }
        guard written == text.utf8.count else {
            throw Failure(description: "write '\(text)' to \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func check(_ result: Int32, _ what: String) throws(Failure) {
        if result != 0 { throw Failure(description: "\(what): \(String(cString: strerror(errno)))") }
    }
}
