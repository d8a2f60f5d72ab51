import Glibc
import SwiftFSProtocol

// Typed arguments and results of FileSystem operations.

/// How long the kernel may cache a name or attributes.
public struct CacheTimeout: Sendable, Equatable {
    public var seconds: UInt64
    public var nanoseconds: UInt32
    public init(seconds: UInt64, nanoseconds: UInt32 = 0) { self.seconds = seconds; self.nanoseconds = nanoseconds }
    public static let none = CacheTimeout(seconds: 0)
}

/// The answer to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE and a READDIRPLUS entry.
/// Each such reply counts as one lookup of `node` that a FORGET later returns.
public struct Entry: Sendable {
    public var node: NodeID
    public var generation: UInt64
    public var attr: FuseAttr
    public var entryTimeout: CacheTimeout
    public var attrTimeout: CacheTimeout

    public init(node: NodeID, generation: UInt64 = 0, attr: FuseAttr, entryTimeout: CacheTimeout, attrTimeout: CacheTimeout) {
        self.node = node; self.generation = generation; self.attr = attr
        self.entryTimeout = entryTimeout; self.attrTimeout = attrTimeout
    }

    var wire: FuseEntryOut {
        var out = FuseEntryOut()
        out.nodeID = node.rawValue
        out.generation = generation
        out.entryValid = entryTimeout.seconds
        out.entryValidNsec = entryTimeout.nanoseconds
        out.attrValid = attrTimeout.seconds
        out.attrValidNsec = attrTimeout.nanoseconds
        out.attr = attr
        return out
    }
}

/// The answer to GETATTR and SETATTR.
public struct Attributes: Sendable {
    public var attr: FuseAttr
    public var timeout: CacheTimeout
    public init(attr: FuseAttr, timeout: CacheTimeout) { self.attr = attr; self.timeout = timeout }
}

/// The answer to OPEN, CREATE and OPENDIR.
public struct OpenedHandle: Sendable {
    public var handle: FileHandle
    public var flags: FuseOpenOutFlags
    public init(handle: FileHandle, flags: FuseOpenOutFlags = []) { self.handle = handle; self.flags = flags }
}

/// A time SETATTR sets: the server's clock or a given instant.
public enum TimeChange: Sendable, Equatable {
    case now
    case at(seconds: UInt64, nanoseconds: UInt32)
}

/// What SETATTR changes; nil fields stay as they are. Applied in the order
/// mode, owner, size, times (as chmod/chown/truncate/utimensat would be).
public struct AttributeChanges: Sendable {
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: UInt64?
    public var atime: TimeChange?
    public var mtime: TimeChange?
    /// The open file the change came through (ftruncate, fchmod), if any.
    public var handle: FileHandle?
    public var lockOwner: UInt64?
    /// FATTR_KILL_SUIDGID (FUSE_HANDLE_KILLPRIV_V2): the caller lacks
    /// CAP_FSETID, so a size change clears suid, and sgid if group-executable.
    public var killSuidgid = false
    public init() {}
}

/// Linux open(2) flags as the guest passed them.
public struct OpenFlags: Sendable, Equatable {
    public var rawValue: UInt32
    /// FUSE_OPEN_KILL_SUIDGID (FUSE_HANDLE_KILLPRIV_V2): the caller lacks
    /// CAP_FSETID, so O_TRUNC clears suid, and sgid if group-executable.
    public var killSuidgid: Bool
    public init(_ rawValue: UInt32, killSuidgid: Bool = false) { self.rawValue = rawValue; self.killSuidgid = killSuidgid }
    public var accessMode: UInt32 { rawValue & LinuxOpenFlags.accessModeMask }
    public var writes: Bool { accessMode != LinuxOpenFlags.readOnly || rawValue & LinuxOpenFlags.truncate != 0 }
    /// O_APPEND: every write goes to the end of the file.
    public var appends: Bool { rawValue & LinuxOpenFlags.append != 0 }
}

/// RENAME2 flags (renameat2).
public struct RenameFlags: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let noReplace = RenameFlags(rawValue: FuseFlag.renameNoReplace)
    public static let exchange = RenameFlags(rawValue: FuseFlag.renameExchange)
    public static let whiteout = RenameFlags(rawValue: FuseFlag.renameWhiteout)
}

/// A byte-range lock as GETLK/SETLK carry it: [start, end] inclusive, end
/// UInt64(Int64.max) meaning "to the end of the file".
public struct FileLock: Sendable, Equatable {
    public enum Kind: UInt32, Sendable { case read = 0, write = 1, unlock = 2 }
    public var kind: Kind
    public var start: UInt64
    public var end: UInt64
    /// The holder's process id (in GETLK replies), the requester's in SETLK.
    public var pid: UInt32

    public init(kind: Kind, start: UInt64, end: UInt64, pid: UInt32) {
        self.kind = kind; self.start = start; self.end = end; self.pid = pid
    }

    public static let toEndOfFile = UInt64(Int64.max)

    /// Who asks: the kernel's lock owner (POSIX locks) and whether this is a flock(2).
    public struct Request: Sendable {
        public var owner: UInt64
        public var handle: FileHandle
        public var isFlock: Bool
        public init(owner: UInt64, handle: FileHandle, isFlock: Bool) {
            self.owner = owner; self.handle = handle; self.isFlock = isFlock
        }
    }
}

