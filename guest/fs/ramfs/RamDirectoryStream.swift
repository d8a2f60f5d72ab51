// A listing of a RAM directory, taken when it was opened.

final class RamDirectoryStream: DirectoryStream {
    private let entries: [DirectoryEntry]
    private var position = 0

    init(_ entries: [DirectoryEntry]) { self.entries = entries }

    override func next() throws(Errno) -> DirectoryEntry? {
        guard position < entries.count else { return nil }
        defer { position += 1 }
        return entries[position]
    }
}
