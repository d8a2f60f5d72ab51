// 9P2000.L, the protocol of QEMU's virtio-9p device (Linux include/net/9p/9p.h and
// net/9p/protocol.c, QEMU hw/9pfs/9p.c). Every message is
//     size[4] type[1] tag[2] body
// little-endian and packed: a string is len[2] + bytes, a qid is type[1] version[4]
// path[8]. Packed fields do not fit the naturally aligned WireRecord structs, so
// requests are written and replies read field by field through NinePWriter and
// NinePReader, which check every bound (a short or overlong reply reads as nil).
//
// Compiles in the host package and in the Embedded guest: no imports, no existentials.

public enum NineP {
    public static let version = "9P2000.L"
    /// size[4] type[1] tag[2]
    public static let headerSize = 7
    /// Tversion carries no tag of its own.
    public static let noTag: UInt16 = 0xFFFF
    public static let noFid: UInt32 = 0xFFFF_FFFF
    /// Room Linux reserves in Tread/Twrite for everything but the data (P9_IOHDRSZ).
    public static let ioHeaderSize = 24
    /// size[4] type[1] tag[2] count[4]: what precedes the data of Rread and Rreaddir.
    public static let dataReplyHeaderSize = 11
    /// Twalk takes at most this many names (MAXWELEM).
    public static let maxWalkNames = 16
    /// Smallest msize a server may answer with (one page, as Linux requires).
    public static let minimumMessageSize = 4096

    /// virtio-9p: virtio device id 9, PCI 1af4:1009 (transitional) or 1af4:1049 (modern only).
    public static let virtioDeviceID: UInt16 = 9
    public static let pciVendorID: UInt16 = 0x1af4
    public static let pciTransitionalDeviceID: UInt16 = 0x1009
    public static let pciModernDeviceID: UInt16 = 0x1049
    /// VIRTIO_9P_MOUNT_TAG: the config space holds tag_len[2] tag[tag_len].
    public static let mountTagFeature: UInt64 = 1 << 0
    /// The device's single request queue.
    public static let requestQueue = 0
}

/// Message types (enum p9_msg_t); each R-message is its T-message + 1.
public enum NinePMessageType: UInt8 {
    case tlerror = 6, rlerror = 7
    case tstatfs = 8, rstatfs = 9
    case tlopen = 12, rlopen = 13
    case tlcreate = 14, rlcreate = 15
    case tgetattr = 24, rgetattr = 25
    case tsetattr = 26, rsetattr = 27
    case treaddir = 40, rreaddir = 41
    case tfsync = 50, rfsync = 51
    case tmkdir = 72, rmkdir = 73
    case trenameat = 74, rrenameat = 75
    case tunlinkat = 76, runlinkat = 77
    case tversion = 100, rversion = 101
    case tattach = 104, rattach = 105
    case twalk = 110, rwalk = 111
    case tread = 116, rread = 117
    case twrite = 118, rwrite = 119
    case tclunk = 120, rclunk = 121

    /// The type a successful reply to this request carries.
    public var replyType: UInt8 { rawValue &+ 1 }

    public var name: String {
        switch self {
        case .tlerror: return "Tlerror"
        case .rlerror: return "Rlerror"
        case .tstatfs: return "Tstatfs"
        case .rstatfs: return "Rstatfs"
        case .tlopen: return "Tlopen"
        case .rlopen: return "Rlopen"
        case .tlcreate: return "Tlcreate"
        case .rlcreate: return "Rlcreate"
        case .tgetattr: return "Tgetattr"
        case .rgetattr: return "Rgetattr"
        case .tsetattr: return "Tsetattr"
        case .rsetattr: return "Rsetattr"
        case .treaddir: return "Treaddir"
        case .rreaddir: return "Rreaddir"
        case .tfsync: return "Tfsync"
        case .rfsync: return "Rfsync"
        case .tmkdir: return "Tmkdir"
        case .rmkdir: return "Rmkdir"
        case .trenameat: return "Trenameat"
        case .rrenameat: return "Rrenameat"
        case .tunlinkat: return "Tunlinkat"
        case .runlinkat: return "Runlinkat"
        case .tversion: return "Tversion"
        case .rversion: return "Rversion"
        case .tattach: return "Tattach"
        case .rattach: return "Rattach"
        case .twalk: return "Twalk"
        case .rwalk: return "Rwalk"
        case .tread: return "Tread"
        case .rread: return "Rread"
        case .twrite: return "Twrite"
        case .rwrite: return "Rwrite"
        case .tclunk: return "Tclunk"
        case .rclunk: return "Rclunk"
        }
    }
}

/// Tgetattr request_mask / Rgetattr valid bits (P9_GETATTR_*).
public enum NinePGetattrMask {
    public static let mode: UInt64 = 0x0001
    public static let nlink: UInt64 = 0x0002
    public static let uid: UInt64 = 0x0004
    public static let gid: UInt64 = 0x0008
    public static let rdev: UInt64 = 0x0010
    public static let atime: UInt64 = 0x0020
    public static let mtime: UInt64 = 0x0040
    public static let ctime: UInt64 = 0x0080
    public static let ino: UInt64 = 0x0100
    public static let size: UInt64 = 0x0200
    public static let blocks: UInt64 = 0x0400
    /// Everything struct stat holds (P9_GETATTR_BASIC).
    public static let basic: UInt64 = 0x07ff
}

/// Tsetattr valid bits (P9_ATTR_*). *_SET means "this time", without it "now".
public enum NinePSetattrMask {
    public static let mode: UInt32 = 0x0001
    public static let uid: UInt32 = 0x0002
    public static let gid: UInt32 = 0x0004
    public static let size: UInt32 = 0x0008
    public static let atime: UInt32 = 0x0010
    public static let mtime: UInt32 = 0x0020
    public static let ctime: UInt32 = 0x0040
    public static let atimeSet: UInt32 = 0x0080
    public static let mtimeSet: UInt32 = 0x0100
}

/// Tlopen/Tlcreate flags (P9_DOTL_*): 9P2000.L defines them as Linux's open flags, so they are
/// LinuxOpenFlags (one definition).
public typealias NinePOpenFlags = LinuxOpenFlags

/// Tunlinkat flags: remove a directory (AT_REMOVEDIR).
public let ninePRemoveDirectoryFlag: UInt32 = 0x200

/// qid.type bits.
public enum NinePQidType {
    public static let directory: UInt8 = 0x80
    public static let symlink: UInt8 = 0x02
}

/// The server's identity of a file: qid[13].
public struct NinePQid: Equatable {
    public var type: UInt8 = 0
    public var version: UInt32 = 0
    public var path: UInt64 = 0
    public init() {}
    public var isDirectory: Bool { type & NinePQidType.directory != 0 }
}

/// Rgetattr's body after valid[8] qid[13]: Linux struct stat fields (mode carries S_IFMT).
public struct NinePAttributes {
    public var valid: UInt64 = 0
    public var qid = NinePQid()
    public var mode: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var nlink: UInt64 = 0
    public var rdev: UInt64 = 0
    public var size: UInt64 = 0
    public var blockSize: UInt64 = 0
    public var blocks: UInt64 = 0
    public var atimeSeconds: UInt64 = 0
    public var atimeNanoseconds: UInt64 = 0
    public var mtimeSeconds: UInt64 = 0
    public var mtimeNanoseconds: UInt64 = 0
    public var ctimeSeconds: UInt64 = 0
    public var ctimeNanoseconds: UInt64 = 0
    public var btimeSeconds: UInt64 = 0
    public var btimeNanoseconds: UInt64 = 0
    public var generation: UInt64 = 0
    public var dataVersion: UInt64 = 0
    public init() {}
}

/// Tsetattr's body after fid[4].
public struct NinePSetAttributes {
    public var valid: UInt32 = 0
    public var mode: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var size: UInt64 = 0
    public var atimeSeconds: UInt64 = 0
    public var atimeNanoseconds: UInt64 = 0
    public var mtimeSeconds: UInt64 = 0
    public var mtimeNanoseconds: UInt64 = 0
    public init() {}
}

/// Rstatfs: struct statfs as 9P2000.L sends it.
public struct NinePFileSystemStats {
    public var type: UInt32 = 0
    public var blockSize: UInt32 = 0
    public var blocks: UInt64 = 0
    public var freeBlocks: UInt64 = 0
    public var availableBlocks: UInt64 = 0
    public var files: UInt64 = 0
    public var freeFiles: UInt64 = 0
    public var fileSystemID: UInt64 = 0
    public var nameLength: UInt32 = 0
    public init() {}
}

/// One T-message body (everything after the header). Twrite's data is not part of it:
/// it travels as its own buffer after the body and `dataCount` counts it.
public enum NinePRequest {
    case version(messageSize: UInt32, version: String)
    case attach(fid: UInt32, authFid: UInt32, userName: String, attachName: String, userID: UInt32)
    case walk(fid: UInt32, newFid: UInt32, names: [String])
    case lopen(fid: UInt32, flags: UInt32)
    case lcreate(fid: UInt32, name: String, flags: UInt32, mode: UInt32, gid: UInt32)
    case read(fid: UInt32, offset: UInt64, count: UInt32)
    case write(fid: UInt32, offset: UInt64, dataCount: UInt32)
    case getattr(fid: UInt32, requestMask: UInt64)
    case setattr(fid: UInt32, attributes: NinePSetAttributes)
    case readdir(fid: UInt32, offset: UInt64, count: UInt32)
    case mkdir(directoryFid: UInt32, name: String, mode: UInt32, gid: UInt32)
    case unlinkat(directoryFid: UInt32, name: String, flags: UInt32)
    case renameat(oldDirectoryFid: UInt32, oldName: String, newDirectoryFid: UInt32, newName: String)
    case fsync(fid: UInt32, dataOnly: UInt32)
    case statfs(fid: UInt32)
    case clunk(fid: UInt32)

    public var type: NinePMessageType {
        switch self {
        case .version: return .tversion
        case .attach: return .tattach
        case .walk: return .twalk
        case .lopen: return .tlopen
        case .lcreate: return .tlcreate
        case .read: return .tread
        case .write: return .twrite
        case .getattr: return .tgetattr
        case .setattr: return .tsetattr
        case .readdir: return .treaddir
        case .mkdir: return .tmkdir
        case .unlinkat: return .tunlinkat
        case .renameat: return .trenameat
        case .fsync: return .tfsync
        case .statfs: return .tstatfs
        case .clunk: return .tclunk
        }
    }

    /// Writes header and body; `size` counts Twrite's data too. False if it does not fit
    /// (or a name is longer than a 9P string can be, or a walk has too many names).
    public func encode(tag: UInt16, into writer: inout NinePWriter) -> Bool {
        let start = writer.offset
        guard writer.u32(0), writer.u8(type.rawValue), writer.u16(tag) else { return false }
        var extra: UInt32 = 0
        var fits: Bool
        switch self {
        case .version(let messageSize, let version):
            fits = writer.u32(messageSize) && writer.string(version)
        case .attach(let fid, let authFid, let userName, let attachName, let userID):
            fits = writer.u32(fid) && writer.u32(authFid) && writer.string(userName) && writer.string(attachName)
                && writer.u32(userID)
        case .walk(let fid, let newFid, let names):
            fits = names.count <= NineP.maxWalkNames && writer.u32(fid) && writer.u32(newFid)
                && writer.u16(UInt16(truncatingIfNeeded: names.count))
            for name in names where fits { fits = writer.string(name) }
        case .lopen(let fid, let flags):
            fits = writer.u32(fid) && writer.u32(flags)
        case .lcreate(let fid, let name, let flags, let mode, let gid):
            fits = writer.u32(fid) && writer.string(name) && writer.u32(flags) && writer.u32(mode) && writer.u32(gid)
        case .read(let fid, let offset, let count), .readdir(let fid, let offset, let count):
            fits = writer.u32(fid) && writer.u64(offset) && writer.u32(count)
        case .write(let fid, let offset, let dataCount):
            fits = writer.u32(fid) && writer.u64(offset) && writer.u32(dataCount)
            extra = dataCount
        case .getattr(let fid, let requestMask):
            fits = writer.u32(fid) && writer.u64(requestMask)
        case .setattr(let fid, let a):
            fits = writer.u32(fid) && writer.u32(a.valid) && writer.u32(a.mode) && writer.u32(a.uid) && writer.u32(a.gid)
                && writer.u64(a.size) && writer.u64(a.atimeSeconds) && writer.u64(a.atimeNanoseconds)
                && writer.u64(a.mtimeSeconds) && writer.u64(a.mtimeNanoseconds)
        case .mkdir(let directoryFid, let name, let mode, let gid):
            fits = writer.u32(directoryFid) && writer.string(name) && writer.u32(mode) && writer.u32(gid)
        case .unlinkat(let directoryFid, let name, let flags):
            fits = writer.u32(directoryFid) && writer.string(name) && writer.u32(flags)
        case .renameat(let oldDirectoryFid, let oldName, let newDirectoryFid, let newName):
            fits = writer.u32(oldDirectoryFid) && writer.string(oldName) && writer.u32(newDirectoryFid)
                && writer.string(newName)
        case .fsync(let fid, let dataOnly):
            fits = writer.u32(fid) && writer.u32(dataOnly)
        case .statfs(let fid), .clunk(let fid):
            fits = writer.u32(fid)
        }
        guard fits else { return false }
        let (size, overflow) = UInt32(writer.offset - start).addingReportingOverflow(extra)
        return !overflow && writer.patchU32(size, at: start)
    }
}

/// Little-endian writer over one byte range; a write that does not fit returns false.
public struct NinePWriter {
    public let bytes: UnsafeMutableRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    private mutating func put<T: FixedWidthInteger>(_ value: T) -> Bool {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { return false }
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += size
        return true
    }

    public mutating func u8(_ value: UInt8) -> Bool { put(value) }
    public mutating func u16(_ value: UInt16) -> Bool { put(value) }
    public mutating func u32(_ value: UInt32) -> Bool { put(value) }
    public mutating func u64(_ value: UInt64) -> Bool { put(value) }

    /// s: len[2] + UTF-8 bytes, no NUL.
    public mutating func string(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { utf8 in
            guard utf8.count <= Int(UInt16.max), bytes.count - offset >= 2 + utf8.count else { return false }
            _ = put(UInt16(utf8.count))
            if utf8.count > 0 {
                (bytes.baseAddress! + offset).copyMemory(from: UnsafeRawPointer(utf8.baseAddress!), byteCount: utf8.count)
            }
            offset += utf8.count
            return true
        }
    }

    public func patchU32(_ value: UInt32, at position: Int) -> Bool {
        guard position >= 0, bytes.count - position >= 4 else { return false }
        bytes.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt32.self)
        return true
    }
}

/// Little-endian reader over one byte range; every read past the end returns nil.
public struct NinePReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    private mutating func get<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    public mutating func u8() -> UInt8? { get(UInt8.self) }
    public mutating func u16() -> UInt16? { get(UInt16.self) }
    public mutating func u32() -> UInt32? { get(UInt32.self) }
    public mutating func u64() -> UInt64? { get(UInt64.self) }

    /// The bytes of an s field, or nil when its length runs past the end.
    public mutating func stringBytes() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u16() else { return nil }
        guard remaining >= Int(length) else { offset = start; return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
        offset += Int(length)
        return slice
    }

    public mutating func string() -> String? {
        guard let raw = stringBytes() else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    public mutating func qid() -> NinePQid? {
        guard remaining >= 13 else { return nil }
        var qid = NinePQid()
        qid.type = u8()!
        qid.version = u32()!
        qid.path = u64()!
        return qid
    }

    /// Rgetattr body.
    public mutating func attributes() -> NinePAttributes? {
        guard remaining >= 153 else { return nil }
        var a = NinePAttributes()
        a.valid = u64()!
        a.qid = qid()!
        a.mode = u32()!
        a.uid = u32()!
        a.gid = u32()!
        a.nlink = u64()!
        a.rdev = u64()!
        a.size = u64()!
        a.blockSize = u64()!
        a.blocks = u64()!
        a.atimeSeconds = u64()!
        a.atimeNanoseconds = u64()!
        a.mtimeSeconds = u64()!
        a.mtimeNanoseconds = u64()!
        a.ctimeSeconds = u64()!
        a.ctimeNanoseconds = u64()!
        a.btimeSeconds = u64()!
        a.btimeNanoseconds = u64()!
        a.generation = u64()!
        a.dataVersion = u64()!
        return a
    }

    /// Rstatfs body.
    public mutating func fileSystemStats() -> NinePFileSystemStats? {
        guard remaining >= 60 else { return nil }
        var s = NinePFileSystemStats()
        s.type = u32()!
        s.blockSize = u32()!
        s.blocks = u64()!
        s.freeBlocks = u64()!
        s.availableBlocks = u64()!
        s.files = u64()!
        s.freeFiles = u64()!
        s.fileSystemID = u64()!
        s.nameLength = u32()!
        return s
    }
}

/// One record of Rreaddir's data: qid[13] offset[8] type[1] name[s].
public struct NinePDirectoryEntry {
    public var qid: NinePQid
    /// Where the next Treaddir continues after this entry.
    public var offset: UInt64
    /// d_type (DT_DIR = 4, DT_REG = 8, ...).
    public var type: UInt8
    public var name: UnsafeRawBufferPointer

    /// The next entry, or nil if the bytes end inside one (a malformed reply).
    public static func read(from reader: inout NinePReader) -> NinePDirectoryEntry? {
        guard let qid = reader.qid(), let offset = reader.u64(), let type = reader.u8(),
              let name = reader.stringBytes() else { return nil }
        return NinePDirectoryEntry(qid: qid, offset: offset, type: type, name: name)
    }
}
