// libFuzzer target: the vhost-user message parser and the back end's
// handling of a whole session. The input is the byte stream QEMU would send
// on the socket; the glue only attaches the descriptors QEMU would pass with
// each message (memfds for memory regions, eventfds for kick/call/err, a
// socket for SET_BACKEND_REQ_FD), then the back end serves the stream to its
// end over a socketpair, as swiftfsd serves QEMU. Oracle beyond "no crash":
// every descriptor passed is closed again once the back end is gone.
import CShim
import FuseServer
import Glibc
import Logging
import Passthrough
import SystemSupport
import VhostUser
import VhostUserFS

private let logger: Logger = {
    var logger = Logger(label: "fuzz")
    logger.logLevel = .critical
    return logger
}()
/// The share the queues' requests would reach (they see only zeroed guest memory: no requests).
private nonisolated(unsafe) var sharePath = Array("/dev/shm/swiftfs-fuzz-vhost.XXXXXX".utf8CString)
private let server: FuseServer<PassthroughFileSystem> = {
    let share = String(cString: mkdtemp(&sharePath)!)
    atexit { rmdir(&sharePath) }
    return try! makePassthroughServer(options: PassthroughOptions(sharedDir: share), logger: logger)
}()
/// Guest RAM for memory messages: a sparse memfd of 1 GiB and a little more, so the regions of
/// the captured QEMU session (a 1 GiB guest) fit; larger ones must be refused.
private let guestRam: Int32 = {
    let fd = shim_memfd_create("fuzz-guest-ram", 0)
    precondition(fd >= 0 && ftruncate(fd, (1 << 30) + (4 << 20)) == 0)
    return fd
}()

private func openDescriptorCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while readdir(dir) != nil { count += 1 }
    return count
}

/// The descriptors QEMU sends with `request` (numbers from vhost-user.rst).
private func descriptors(for request: UInt32, payload: UnsafeRawBufferPointer) -> [Int32] {
    switch request {
    case 5: // SET_MEM_TABLE: one per region
        let regions = payload.count >= 4 ? min(Int(payload.loadUnaligned(as: UInt32.self)), 8) : 0
        return (0..<regions).map { _ in dup(guestRam) }
    case 37: // ADD_MEM_REG
        return [dup(guestRam)]
    case 12, 13, 14: // SET_VRING_KICK/CALL/ERR, unless the payload says "no descriptor"
        let word = payload.count >= 8 ? payload.loadUnaligned(as: UInt64.self) : 0
        return word & 0x100 != 0 ? [] : [shim_eventfd(0)]
    case 21: // SET_BACKEND_REQ_FD
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return [] }
        close(pair[1])
        return [pair[0]]
    default:
        return []
    }
}

/// Sends `bytes` with `fds` attached (SCM_RIGHTS), then closes our copies of `fds`.
private func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer, fds: [Int32]) {
    defer { fds.forEach { close($0) } }
    _ = sendPassingDescriptors(socket, bytes, descriptors: fds)
}

public enum VhostUserSessionTarget {
    /// One fuzz input (libFuzzer, or a corpus file replayed by FuzzReplayTests).
    /// `checkDescriptors`: compare the process's open descriptors before and
    /// after (only meaningful when nothing else in the process opens any).
    public static func run(_ data: UnsafePointer<UInt8>, _ size: Int, checkDescriptors: Bool = true) {
        _ = server
        _ = guestRam
        let before = checkDescriptors ? openDescriptorCount() : 0
        var pair: [Int32] = [-1, -1]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        var bufferSize: Int32 = 1 << 20
        setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &bufferSize, 4)
        setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &bufferSize, 4)

        // Frame the stream as the back end will: a 12-byte header, then `size` bytes of payload.
        var rest = UnsafeRawBufferPointer(start: data, count: size)
        while !rest.isEmpty {
            guard rest.count >= 12 else {
                send(pair[0], rest, fds: [])
                break
            }
            let request = rest.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            let payloadSize = Int(rest.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let take = min(rest.count, 12 + min(payloadSize, 4096))
            let payload = UnsafeRawBufferPointer(rebasing: rest[12..<take])
            send(pair[0], UnsafeRawBufferPointer(rebasing: rest[..<take]), fds: descriptors(for: request, payload: payload))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
        }
        shutdown(pair[0], Int32(SHUT_WR))

        do {
            let backend = VhostUserBackend(device: VirtioFSDevice(handler: server), configuration: .init(maxQueues: 3), logger: logger)
            try? backend.serve(VhostUserConnection(OwnedDescriptor(pair[1])))
            backend.stopAll()
        }
        close(pair[0])
        let after = checkDescriptors ? openDescriptorCount() : 0
        precondition(after == before, "\(after - before) descriptors left open by the session")
    }
}
