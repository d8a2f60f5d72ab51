// open() flags and lseek() whence values: Linux's, from protocol/LinuxABI.swift, so C
// callers pass theirs unchanged and the FUSE client forwards them as they are.

struct OpenFlags: OptionSet {
    var rawValue: Int32
    init(rawValue: Int32) { self.rawValue = rawValue }
    private init(_ linux: UInt32) { rawValue = Int32(bitPattern: linux) }

    static let readOnly = OpenFlags(LinuxOpenFlags.readOnly)
    static let writeOnly = OpenFlags(LinuxOpenFlags.writeOnly)
    static let readWrite = OpenFlags(LinuxOpenFlags.readWrite)
    static let create = OpenFlags(LinuxOpenFlags.create)
    static let exclusive = OpenFlags(LinuxOpenFlags.exclusive)
    static let truncate = OpenFlags(LinuxOpenFlags.truncate)
    static let append = OpenFlags(LinuxOpenFlags.append)
    static let directory = OpenFlags(LinuxOpenFlags.directory)

    static let accessModeMask = Int32(bitPattern: LinuxOpenFlags.accessModeMask)

    var canRead: Bool { rawValue & OpenFlags.accessModeMask != OpenFlags.writeOnly.rawValue }
    var canWrite: Bool { rawValue & OpenFlags.accessModeMask != OpenFlags.readOnly.rawValue }
}

/// lseek() whence values.
enum SeekOrigin: Int32 {
    case start, current, end, data, hole

    init?(rawValue: Int32) {
        switch UInt32(bitPattern: rawValue) {
        case LinuxSeekWhence.set: self = .start
        case LinuxSeekWhence.current: self = .current
        case LinuxSeekWhence.end: self = .end
        case LinuxSeekWhence.data: self = .data
        case LinuxSeekWhence.hole: self = .hole
        default: return nil
        }
    }

    var rawValue: Int32 {
        let linux: UInt32
        switch self {
        case .start: linux = LinuxSeekWhence.set
        case .current: linux = LinuxSeekWhence.current
        case .end: linux = LinuxSeekWhence.end
        case .data: linux = LinuxSeekWhence.data
        case .hole: linux = LinuxSeekWhence.hole
        }
        return Int32(bitPattern: linux)
    }
}
