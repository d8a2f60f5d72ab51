/// Who sent a request (from fuse_in_header): the caller's credentials, for
/// creating files with the right owner and for permission checks.
public struct RequestContext: Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: UInt32
    /// The request's unique id (what an INTERRUPT names).
    public var unique: UInt64

    public init(uid: UInt32, gid: UInt32, pid: UInt32, unique: UInt64) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.unique = unique
    }
}

/// A node id the kernel got from a LOOKUP-like reply; 1 is the root.
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let root = NodeID(1)
    public var description: String { "node \(rawValue)" }

    // Node tables are looked up on almost every request: hash the one word
    // through UInt64's single-word path (the same seeded SipHash value,
    // without a streaming Hasher's setup and finalization).
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    @inlinable public func _rawHashValue(seed: Int) -> Int { rawValue._rawHashValue(seed: seed) }
}

/// An open file or directory handle the filesystem gave out in OPEN/CREATE/OPENDIR.
public struct FileHandle: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "handle \(rawValue)" }

    // As NodeID: one word, hashed through UInt64's single-word path.
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    @inlinable public func _rawHashValue(seed: Int) -> Int { rawValue._rawHashValue(seed: seed) }
}
