import CShim
import Glibc
import Synchronization
import SystemSupport

/// The listening Unix socket QEMU connects to (--socket-path), or one
/// inherited from a parent (--fd). Keeps a descriptor of the socket's
/// directory so the file can be removed even after the sandbox hides the path.
public struct SocketListener: ~Copyable {
    private let socket: OwnedDescriptor
    /// nil for an inherited socket, when the directory could not be opened, or once closed.
    private var directory: OwnedDescriptor?
    private let name: String?

    public var fd: Int32 { socket.rawValue }

    /// Creates and listens on `path`, replacing a stale socket file. The
    /// socket is created owner-only (0600) whatever the inherited umask: whoever
    /// connects first acts as the guest. The caller makes sure no live daemon
    /// owns `path` (swiftfsd locks a pid file first).
    public init(path: String) throws(VhostUserError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw .invalidMessage("socket path longer than \(capacity - 1) bytes") }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else { throw .invalidMessage("\(path) exists and is not a socket") }
            unlink(path)
        }
        let raw = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw .system("socket", errno: errno) }
        let listening = OwnedDescriptor(raw) // closed if bind or listen fails
        let fd = listening.rawValue
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        // bind() creates the file with 0777 & ~umask. The umask is per
        // process, but no other thread runs yet at start-up.
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { shim_bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard bound == 0, listen(fd, 1) == 0 else { throw .system("bind/listen \(path)", errno: errno) }
        let slash = path.lastIndex(of: "/")
        let directoryPath = slash.map { String(path[..<$0]) } ?? "."
        let directoryFd = shim_openat(shim_AT_FDCWD, directoryPath.isEmpty ? "/" : directoryPath,
                                      shim_O_PATH | shim_O_DIRECTORY | shim_O_CLOEXEC, 0)
        self.socket = listening
        self.directory = directoryFd >= 0 ? OwnedDescriptor(directoryFd) : nil
        self.name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    }

    /// Uses an already listening socket, and closes it when done.
    public init(listeningFd: Int32) {
        self.socket = OwnedDescriptor(listeningFd)
        self.directory = nil
        self.name = nil
    }

    /// For a process that leaves removing the socket file to another (the
    /// sandboxed child of swiftfsd): no descriptor of the directory stays open.
    public mutating func closeDirectory() {
        directory = nil // the dropped descriptor closes
    }

    /// Waits for the front end.
    public func accept() throws(VhostUserError) -> VhostUserConnection {
        while true {
            let connection = shim_accept_cloexec(fd)
            if connection >= 0 { return VhostUserConnection(OwnedDescriptor(connection)) }
            if errno != EINTR { throw .system("accept", errno: errno) }
        }
    }

    /// What removes the socket file later, even after the listener is gone (the
    /// daemon drops it once the front end is connected, and its descriptor
    /// numbers may then name anything, such as a directory in the share).
    public var remover: SocketFileRemover {
        let directoryFd: Int32 = switch directory {
        case .some(let descriptor): descriptor.rawValue
        case .none: -1
        }
        return SocketFileRemover(directory: directoryFd, name: name)
    }
}

/// Removes the socket file through a descriptor of its directory of its own;
/// safe to call from a signal-handling thread, and removes at most once.
public final class SocketFileRemover: Sendable {
    private struct Target: ~Copyable {
        let directory: OwnedDescriptor
        let name: String
    }
    private let target: Mutex<Target?>

    init(directory: Int32, name: String?) {
        let copy = directory >= 0 ? fcntl(directory, F_DUPFD_CLOEXEC, 0) : -1
        if let name, copy >= 0 {
            target = Mutex(Target(directory: OwnedDescriptor(copy), name: name))
        } else {
            target = Mutex(nil)
        }
    }

    public func remove() {
        target.withLock { target in
            if let removing = target.take() { _ = unlinkat(removing.directory.rawValue, removing.name, 0) }
        }
    }

    /// For a process that leaves the removal to another (the sandboxed child
    /// of swiftfsd): closes the directory descriptor without removing anything.
    public func letGo() {
        target.withLock { target in _ = target.take() }
    }
}
