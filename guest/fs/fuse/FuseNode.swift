// A server inode the guest knows by node id. The server counts LOOKUPs (and
// CREATE/MKDIR/READDIRPLUS entries); we count them too and give them all back
// with one FORGET when the node leaves the cache.

final class FuseNode: VNode, KindKeepingNode {
    let nodeID: UInt64
    let kind: FileKind
    /// Lookups the server has counted for this node and we have not forgotten.
    var lookupCount: UInt64 = 0
    /// Cached directory entries naming this node.
    var cachedNames = 0
    /// Open files and directory streams using this node's id.
    var openCount = 0
    var attributes: FileStat
    /// monotonicNanoseconds() until which `attributes` may be used without GETATTR.
    var attributesValidUntil: UInt64 = 0
    /// End of file as of the last attributes, moved by our own writes and truncates even
    /// when the attributes are stale (Linux keeps i_size the same way): O_APPEND needs no GETATTR.
    var knownSize: Int? = nil

    init(nodeID: UInt64, attributes: FileStat) {
        self.nodeID = nodeID
        kind = attributes.kind
        self.attributes = attributes
    }

    var isReferenced: Bool { cachedNames > 0 || openCount > 0 || nodeID == FuseProtocol.rootNodeID }

    func updateAttributes(_ attr: FuseAttr, validSeconds: UInt64, validNanoseconds: UInt32) {
        attributes = FileStat(fuse: attr)
        knownSize = attributes.size
        attributesValidUntil = validityDeadline(seconds: validSeconds, nanoseconds: validNanoseconds)
    }
}

/// A deadline on monotonicNanoseconds() for a FUSE validity period (capped so it cannot overflow).
func validityDeadline(seconds: UInt64, nanoseconds: UInt32) -> UInt64 {
    let cappedSeconds = min(seconds, 1_000_000)
    return monotonicNanoseconds() &+ cappedSeconds * 1_000_000_000 &+ UInt64(min(nanoseconds, 999_999_999))
}

extension FileStat {
    init(fuse attr: FuseAttr) {
        self.init()
        inode = attr.ino
        kind = FileKind(modeBits: attr.mode)
        permissions = attr.mode & 0o7777
        linkCount = attr.nlink
        size = Int(clamping: attr.size)
        blocks = attr.blocks
        blockSize = attr.blksize == 0 ? 4096 : attr.blksize
        accessTime = FileTime(seconds: Int64(bitPattern: attr.atime), nanoseconds: attr.atimensec)
        modificationTime = FileTime(seconds: Int64(bitPattern: attr.mtime), nanoseconds: attr.mtimensec)
        changeTime = FileTime(seconds: Int64(bitPattern: attr.ctime), nanoseconds: attr.ctimensec)
    }
}
