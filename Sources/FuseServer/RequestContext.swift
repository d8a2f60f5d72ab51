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

    // Node tables are looked up on almost every request. The daemon hands out
    // node ids in sequence, so the guest chooses none of the keys a table holds
    // (only which of them to forget, within the node limit), and a multiplicative
    // hash spreads a run of ids over distinct buckets in a few instructions
    // (SipHash of the word took ~95, 5 % of the daemon's instructions per
    // request; docs/benchmarks.md).
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    @inlinable public func _rawHashValue(seed: Int) -> Int { sequentialIDHash(rawValue, seed: seed) }
}

/// An open file or directory handle the filesystem gave out in OPEN/CREATE/OPENDIR.
public struct FileHandle: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "handle \(rawValue)" }

    // As NodeID: handed out in sequence by the daemon, hashed multiplicatively.
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    @inlinable public func _rawHashValue(seed: Int) -> Int { sequentialIDHash(rawValue, seed: seed) }
}

/// The bucket hash of an id the daemon assigned in sequence: the seeded id
/// times an odd constant (Fibonacci hashing). Its low bits, which pick the
/// bucket, are a permutation of the id's low bits, so consecutive ids never
/// share a bucket.
@inlinable func sequentialIDHash(_ id: UInt64, seed: Int) -> Int {
    Int(truncatingIfNeeded: (id ^ UInt64(UInt(bitPattern: seed))) &* 0x9E37_79B9_7F4A_7C15)
}
