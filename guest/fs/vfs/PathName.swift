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
        let bytes = path.utf8
        guard !bytes.isEmpty else { throw .ENOENT }
        guard bytes.count < PathName.maxPathLength else { throw .ENAMETOOLONG }
        components = []
        mustBeDirectory = false
        var start = bytes.startIndex
        var index = start
        let slash = UInt8(ascii: "/")
        while true {
            let atEnd = index == bytes.endIndex
            if atEnd || bytes[index] == slash {
                let length = bytes.distance(from: start, to: index)
                if length > PathName.maxNameLength { throw .ENAMETOOLONG }
                if length == 1 && bytes[start] == UInt8(ascii: ".") {
                    // "." names the directory itself
                } else if length == 2 && bytes[start] == UInt8(ascii: ".")
                    && bytes[bytes.index(after: start)] == UInt8(ascii: ".") {
                    if !components.isEmpty { components.removeLast() }
                } else if length > 0 {
                    components.append(String(path[start..<index]))
                }
                if atEnd {
                    mustBeDirectory = length == 0 || (length <= 2 && lastWasDots(bytes, start, length))
                    break
                }
                index = bytes.index(after: index)
                start = index
            } else {
                index = bytes.index(after: index)
            }
        }
    }

    var isRoot: Bool { components.isEmpty }
}

/// A trailing "." or ".." also demands a directory.
private func lastWasDots(_ bytes: String.UTF8View, _ start: String.UTF8View.Index, _ length: Int) -> Bool {
    var index = start
    for _ in 0..<length {
        if bytes[index] != UInt8(ascii: ".") { return false }
        index = bytes.index(after: index)
    }
    return true
}
