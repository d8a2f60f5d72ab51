// An open RAM file: holds the file itself, so unlinking leaves it readable.

final class RamOpenFile: OpenFile {
    let file: RamFile

    init(_ file: RamFile) { self.file = file }

    override func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard offset >= 0 else { throw .EINVAL }
        return file.read(into: buffer, at: offset)
    }

    override func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        try file.write(bytes, at: offset)
    }

    override func attributes() throws(Errno) -> FileStat { file.attributes }

    override func sizeForAppend() throws(Errno) -> Int { file.size }

    override func truncate(to size: Int) throws(Errno) { try file.truncate(to: size) }

    override func sync() throws(Errno) {}

    override func seek(_ origin: SeekOrigin, from offset: Int) throws(Errno) -> Int {
        try file.seek(origin, from: offset)
    }
}
