import CShim
import Glibc
import SystemSupport

/// `<socket-path>.pid`, locked for the daemon's life (as virtiofsd does): a
/// second daemon started on the same socket path finds it locked and stops
/// before touching the live socket. Holds the lock until the process exits;
/// `remover` deletes the file (through a directory descriptor, so it works
/// after the sandbox hides the path).
struct PidFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    private let fd: Int32
    private let directoryFd: Int32
    private let name: String

    /// Creates or opens `path`, locks it and writes our pid; fails if another process holds the lock.
    init(path: String, guarding socketPath: String) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let directoryRaw = shim_openat(shim_AT_FDCWD, directory.isEmpty ? "/" : directory,
                                       shim_O_PATH | shim_O_DIRECTORY | shim_O_CLOEXEC, 0)
        guard directoryRaw >= 0 else { throw Failure(description: "\(directory): \(String(cString: strerror(errno)))") }
        let directoryDescriptor = OwnedDescriptor(directoryRaw) // closed on every failure below
        let directoryFd = directoryDescriptor.rawValue
        // A few rounds: the file may be removed by an exiting daemon between our open and lock.
        for _ in 0..<8 {
            let raw = shim_openat(directoryFd, name, O_RDWR | O_CREAT | shim_O_NOFOLLOW | shim_O_CLOEXEC, 0o600)
            guard raw >= 0 else { throw Failure(description: "pid file \(path): \(String(cString: strerror(errno)))") }
            let file = OwnedDescriptor(raw)
            let fd = file.rawValue
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let error = errno
                let holder = Self.readPid(fd)
                if error == EWOULDBLOCK {
                    throw Failure(description: "another daemon\(holder.map { " (pid \($0))" } ?? "") is serving \(socketPath): "
                                  + "its pid file \(path) is locked; refusing to replace its socket")
                }
                throw Failure(description: "lock \(path): \(String(cString: strerror(error)))")
            }
            // Locked: make sure it is still the file at `path`, not one an exiting daemon just removed.
            var opened = stat(), current = stat()
            if fstat(fd, &opened) == 0, fstatat(directoryFd, name, &current, shim_AT_SYMLINK_NOFOLLOW) == 0,
               opened.st_dev == current.st_dev, opened.st_ino == current.st_ino {
                let text = "\(getpid())\n"
                _ = ftruncate(fd, 0)
                _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
                self.path = path
                // Released, never closed: the lock and the directory stay until the process exits.
                self.fd = file.release()
                self.directoryFd = directoryDescriptor.release()
                self.name = name
                return
            }
        }
        throw Failure(description: "pid file \(path) keeps changing; is another daemon starting?")
    }

    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = pread(fd, &buffer, 15, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingWhitespace)
    }

    /// In the sandboxed child: the parent keeps the lock and removes the file.
    func closeDescriptors() {
        // Raw: released at init to live until exit, these have no owner to drop them.
        close(fd)
        close(directoryFd)
    }

    /// Removes the file; the lock (and descriptor) stay until the process exits.
    var remover: @Sendable () -> Void {
        let dir = directoryFd, name = self.name
        return { _ = unlinkat(dir, name, 0) }
    }
}

private extension String {
    var trimmingWhitespace: String { String(filter { !$0.isWhitespace }) }
}
