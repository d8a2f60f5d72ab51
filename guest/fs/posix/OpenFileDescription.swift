// What a file descriptor points at: an open file or directory and the
// position the next read or write uses.

final class OpenFileDescription {
    let flags: OpenFlags
    var offset = 0
    /// Set for regular files.
    let file: OpenFile?
    /// Set for directories (opened with open() or opendir()).
    let directory: (fileSystem: FileSystem, node: VNode)?
    /// Created by opendir() or the first readdir().
    var directoryStream: DirectoryStream?

    init(file: OpenFile, flags: OpenFlags) {
        self.file = file
        self.flags = flags
        directory = nil
    }

    init(directory node: VNode, in fileSystem: FileSystem, flags: OpenFlags) {
        file = nil
        self.flags = flags
        directory = (fileSystem, node)
    }

    func attributes() throws(Errno) -> FileStat {
        if let file = file { return try file.attributes() }
        let (fileSystem, node) = directory!
        return try fileSystem.attributes(of: node)
    }

    func close() throws(Errno) {
        directoryStream?.close()
        directoryStream = nil
        try file?.close()
    }
}
