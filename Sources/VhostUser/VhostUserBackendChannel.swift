import Glibc
import SystemSupport
import SwiftFSProtocol
import Synchronization

/// The back end's own requests to the front end, on the socket the front
/// end handed over with SET_BACKEND_REQ_FD. One request at a time (the
/// device's workers share it); with REPLY_ACK each waits for the front end's status.
public final class VhostUserBackendChannel: Sendable {
    private let connection: Mutex<VhostUserConnection>
    /// REPLY_ACK was negotiated: requests carry NEED_REPLY and wait for the status.
    public let awaitsReplies: Bool

    public init(descriptor: consuming OwnedDescriptor, awaitsReplies: Bool) {
        connection = Mutex(VhostUserConnection(descriptor))
        self.awaitsReplies = awaitsReplies
    }

    /// Sends `request` with `payload` (and `descriptor`, if any). A send
    /// failure, a hang-up, a reply that does not match, or a non-zero
    /// status is EIO: the mapping did not happen.
    public func send<T: WireRecord>(_ request: VhostUserBackendRequest, _ payload: T, passing descriptor: Int32? = nil) throws(Errno) {
        let flags = VhostUserHeader.version | (awaitsReplies ? VhostUserHeader.needReplyFlag : 0)
        let awaitsReplies = self.awaitsReplies
        try connection.withLock { (connection) throws(Errno) in
            var copy = payload
            let sent = withUnsafeBytes(of: &copy) { bytes in
                (try? connection.sendRequest(request.rawValue, flags: flags, payload: bytes, passing: descriptor)) != nil
            }
            guard sent else { throw Errno.EIO }
            guard awaitsReplies else { return }
            guard let reply = try? connection.receive() else { throw Errno.EIO }
            guard reply.header.request == request.rawValue, reply.header.flags & VhostUserHeader.replyFlag != 0,
                  reply.u64 == 0 else { throw Errno.EIO }
        }
    }
}
