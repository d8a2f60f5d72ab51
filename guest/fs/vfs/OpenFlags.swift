// open() flags with Linux x86_64 values, so C callers can pass theirs unchanged.

struct OpenFlags: OptionSet {
    var rawValue: Int32
    init(rawValue: Int32) { self.rawValue = rawValue }

    static let readOnly = OpenFlags([])
    static let writeOnly = OpenFlags(rawValue: 0o1)
    static let readWrite = OpenFlags(rawValue: 0o2)
    static let create = OpenFlags(rawValue: 0o100)
    static let exclusive = OpenFlags(rawValue: 0o200)
    static let truncate = OpenFlags(rawValue: 0o1000)
    static let append = OpenFlags(rawValue: 0o2000)
    static let directory = OpenFlags(rawValue: 0o200000)

    static let accessModeMask: Int32 = 0o3

    var canRead: Bool { rawValue & OpenFlags.accessModeMask != 1 }
    var canWrite: Bool { rawValue & OpenFlags.accessModeMask != 0 }
}

/// lseek() whence values.
enum SeekOrigin: Int32 {
    case start = 0     // SEEK_SET
    case current = 1   // SEEK_CUR
    case end = 2       // SEEK_END
    case data = 3      // SEEK_DATA
    case hole = 4      // SEEK_HOLE
}
