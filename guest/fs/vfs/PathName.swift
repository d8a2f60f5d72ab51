// Lexical path parsing. There are no symbolic links in the guest's view and no
// current directory, so "." and ".." can be resolved on the text alone and a
// relative path is taken from "/".

struct PathName {
    /// Components after removing "", "." and resolving "..".
    var components: [String]
    /// "a/b/" must name a directory.
    var mustBeDirectory: Bool

    static let maxNameLength = 255
    static let maxPathLength = 4096

    init(parsing path: String) throws(Errno) {
        // Parsing works on the contiguous UTF-8 bytes: slicing the String itself and
        // converting Substrings cost about 2.5 us per path under TCG. The names stay
        // valid UTF-8, since they are cut at ASCII slashes.
        var text = path
        let parsed = text.withUTF8 { (bytes) -> Result<PathName, Errno> in
            do throws(Errno) { return .success(try PathName(bytes: bytes)) } catch { return .failure(error) }
        }
        self = try parsed.get()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) throws(Errno) {
        guard !bytes.isEmpty else { throw .ENOENT }
        guard bytes.count < PathName.maxPathLength else { throw .ENAMETOOLONG }
        components = []
        components.reserveCapacity(8)
        mustBeDirectory = false
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var start = 0
        var index = 0
        while true {
            let atEnd = index == bytes.count
            if atEnd || bytes[index] == slash {
                let length = index - start
                if length > PathName.maxNameLength { throw .ENAMETOOLONG }
                let isDot = length == 1 && bytes[start] == dot
                let isDotDot = length == 2 && bytes[start] == dot && bytes[start + 1] == dot
                if isDotDot {
                    if !components.isEmpty { components.removeLast() }
                } else if length > 0 && !isDot {
                    components.append(PathName.name(UnsafeBufferPointer(rebasing: bytes[start..<index])))
                }
                if atEnd {
                    // A trailing "/", "." or ".." also demands a directory.
                    mustBeDirectory = length == 0 || isDot || isDotDot
                    break
                }
                start = index + 1
            }
            index += 1
        }
    }

    var isRoot: Bool { components.isEmpty }

    /// A String with these bytes; about half the cost of String(decoding:as:) under TCG.
    private static func name(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { (storage) -> Int in
            _ = storage.initialize(from: bytes)
            return bytes.count
        }
    }
}
