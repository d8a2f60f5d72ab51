import CShim
import Glibc

/// Confines the daemon to the shared directory after everything outside it
/// (the socket, the shared directory's root descriptor) has been opened.
enum Sandbox {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func enter(_ mode: SandboxMode, sharedDirectory: String) throws(Failure) {
        switch mode {
        case .none:
            return
        case .chroot:
            try check(chdir(sharedDirectory), "chdir \(sharedDirectory)")
            try check(chroot("."), "chroot \(sharedDirectory)")
            try check(chdir("/"), "chdir /")
        case .namespace:
            // A private mount namespace, so the pivot is invisible to the host,
            // and an empty network namespace: the daemon needs no network (its
            // socket is already listening). Without network namespaces, mount only.
            if shim_unshare(shim_CLONE_NEWNS | shim_CLONE_NEWNET) != 0 {
                try check(shim_unshare(shim_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
            }
            try check(mount(nil, "/", nil, UInt(MS_REC | MS_SLAVE), nil), "mount --make-rslave /")
            // pivot_root needs a mount point: bind the shared directory onto itself.
            try check(mount(sharedDirectory, sharedDirectory, nil, UInt(MS_BIND | MS_REC), nil), "bind mount \(sharedDirectory)")
            try check(chdir(sharedDirectory), "chdir \(sharedDirectory)")
            // Stack the old root under the new one, then detach it.
            try check(shim_pivot_root(".", "."), "pivot_root")
            try check(umount2(".", Int32(MNT_DETACH)), "umount old root")
            try check(chdir("/"), "chdir /")
        }
    }

    private static func check(_ result: Int32, _ what: String) throws(Failure) {
        if result != 0 { throw Failure(description: "\(what): \(String(cString: strerror(errno)))") }
    }
}
