// What stat() reports, in the units Linux uses.

enum FileKind: UInt8 {
    case regular
    case directory
    case other

    /// The S_IFMT bits for this kind.
    var modeBits: UInt32 {
        switch self {
        case .regular: return LinuxFileMode.regular
        case .directory: return LinuxFileMode.directory
        case .other: return 0
        }
    }

    init(modeBits mode: UInt32) {
        switch mode & LinuxFileMode.typeMask {
        case LinuxFileMode.regular: self = .regular
        case LinuxFileMode.directory: self = .directory
        default: self = .other
        }
    }

    /// From a directory entry's d_type (FUSE and 9P send Linux's): S_IF* >> 12.
    init(directoryEntryType type: UInt32) {
        self.init(modeBits: (type << 12) & LinuxFileMode.typeMask)
    }
}

/// A point in time as seconds and nanoseconds (FUSE and struct stat both use this split).
struct FileTime: Equatable {
    var seconds: Int64 = 0
    var nanoseconds: UInt32 = 0

    init(seconds: Int64 = 0, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(totalNanoseconds ns: UInt64) {
        seconds = Int64(ns / 1_000_000_000)
        nanoseconds = UInt32(ns % 1_000_000_000)
    }

    /// The guest has no wall clock, so file times count from boot.
    static func now() -> FileTime { FileTime(totalNanoseconds: monotonicNanoseconds()) }
}

struct FileStat {
    var inode: UInt64 = 0
    var kind: FileKind = .regular
    /// Permission bits only (0o7777); `mode` adds the file type.
    var permissions: UInt32 = 0
    var linkCount: UInt32 = 1
    var size: Int = 0
    var blocks: UInt64 = 0   // 512-byte units
    var blockSize: UInt32 = 4096
    var accessTime = FileTime()
    var modificationTime = FileTime()
    var changeTime = FileTime()

    var mode: UInt32 { kind.modeBits | (permissions & 0o7777) }
    var isDirectory: Bool { kind == .directory }
}

/// The attributes a setattr call changes; nil fields stay as they are.
struct AttributeChanges {
    var size: Int? = nil
    var permissions: UInt32? = nil
    var accessTime: FileTime? = nil
    var modificationTime: FileTime? = nil
}

/// statfs() result.
struct FileSystemStats {
    var blockSize: UInt32 = 4096
    var totalBlocks: UInt64 = 0
    var freeBlocks: UInt64 = 0
    var availableBlocks: UInt64 = 0
    var totalFiles: UInt64 = 0
    var freeFiles: UInt64 = 0
    var maxNameLength: UInt32 = 255
}
