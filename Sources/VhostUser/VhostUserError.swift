/// Why a vhost-user request or a guest buffer was refused.
public enum VhostUserError: Error, Equatable, CustomStringConvertible {
    case invalidMemoryRegion(String)
    case invalidMessage(String)
    case invalidQueue(String)
    case system(String, errno: Int32)
    case disconnected

    public var description: String {
        switch self {
        case .invalidMemoryRegion(let why): "invalid memory region: \(why)"
        case .invalidMessage(let why): "invalid message: \(why)"
        case .invalidQueue(let why): "invalid queue: \(why)"
        case .system(let call, let errno): "\(call) failed: errno \(errno)"
        case .disconnected: "front end disconnected"
        }
    }
}
