// Inodes of the RAM filesystem: the attributes every node has; RamFile and
// RamDirectory add their contents.

class RamNode: VNode {
    let inode: UInt64
    var permissions: UInt32
    /// Directory entries naming this node (plus "." and subdirectories' ".." for directories).
    var linkCount: UInt32
    var accessTime: FileTime
    var modificationTime: FileTime
    var changeTime: FileTime

    init(inode: UInt64, permissions: UInt32, linkCount: UInt32) {
        self.inode = inode
        self.permissions = permissions & 0o7777
        self.linkCount = linkCount
        let now = FileTime.now()
        accessTime = now
        modificationTime = now
        changeTime = now
    }

    var kind: FileKind { .other }
    var size: Int { 0 }
    var allocatedBytes: Int { 0 }

    func touchModified() {
        let now = FileTime.now()
        modificationTime = now
        changeTime = now
    }

    var attributes: FileStat {
        var stat = FileStat()
        stat.inode = inode
        stat.kind = kind
        stat.permissions = permissions
        stat.linkCount = linkCount
        stat.size = size
        stat.blocks = UInt64((allocatedBytes + 511) / 512)
        stat.accessTime = accessTime
        stat.modificationTime = modificationTime
        stat.changeTime = changeTime
        return stat
    }
}
