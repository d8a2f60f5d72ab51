import ScatterGather
import SwiftFSProtocol

/// Where READDIR/READDIRPLUS entries go: encoded straight into the reply
/// (fuse_dirent or fuse_direntplus records, each padded to 8 bytes), never
/// past the size the kernel asked for.
public struct DirectoryEntrySink {
    @usableFromInline var writer: ScatterWriter
    /// Bytes the reply may still take.
    public private(set) var remaining: Int
    /// READDIRPLUS: each entry carries a fuse_entry_out (and counts as a lookup).
    public let isPlus: Bool
    public private(set) var entryCount = 0

    init(writer: ScatterWriter, limit: Int, isPlus: Bool) {
        self.writer = writer
        self.remaining = max(0, min(limit, writer.remaining))
        self.isPlus = isPlus
    }

    /// Bytes one entry with a name of `nameLength` bytes takes.
    public func recordSize(nameLength: Int) -> Int {
        FuseProtocol.recordAlign((isPlus ? FuseEntryOut.wireSize : 0) + FuseDirent.wireSize + nameLength)
    }

    /// Whether an entry with this name still fits; check before doing work
    /// (a READDIRPLUS lookup) for an entry that would be dropped.
    public func fits(nameLength: Int) -> Bool { recordSize(nameLength: nameLength) <= remaining }

    /// Appends one entry. `offset` is the cookie of the *next* entry (what a
    /// later READDIR passes back). `entry` is the READDIRPLUS lookup result,
    /// nil for entries without one ("." and ".."; the kernel skips node 0).
    /// Returns false, appending nothing, when the entry does not fit.
    @discardableResult
    public mutating func append(name: UnsafeRawBufferPointer, inode: UInt64, type: UInt32, offset: UInt64,
                                entry: Entry? = nil) -> Bool {
        guard name.count > 0, name.count <= FileName.maxLength, fits(nameLength: name.count) else { return false }
        let size = recordSize(nameLength: name.count)
        if isPlus {
            writer.write(entry?.wire ?? FuseEntryOut())
        }
        var dirent = FuseDirent()
        dirent.ino = inode
        dirent.off = offset
        dirent.namelen = UInt32(name.count)
        dirent.type = type
        writer.write(dirent)
        writer.write(bytes: name)
        let used = (isPlus ? FuseEntryOut.wireSize : 0) + FuseDirent.wireSize + name.count
        writer.writeZeros(size - used)
        remaining -= size
        entryCount += 1
        return true
    }
}
