// rm -r for test setup and cleanup.

/// Removes `path` and everything below it; a missing path is not an error.
func removeTree(_ path: String) throws(Errno) {
    let stat: FileStat
    do { stat = try Posix.stat(path) } catch { if error == .ENOENT { return }; throw error }
    guard stat.isDirectory else { try Posix.unlink(path); return }
    var names: [(String, Bool)] = []
    let directory = try Posix.opendir(path)
    do {
        while let entry = try Posix.readdir(directory) {
            if entry.name == "." || entry.name == ".." { continue }
            names.append((entry.name, entry.kind == .directory))
        }
    } catch {
        try? Posix.closedir(directory)
        throw error
    }
    try Posix.closedir(directory)
    for (name, isDirectory) in names {
        let child = path + "/" + name
        if isDirectory { try removeTree(child) } else { try Posix.unlink(child) }
    }
    try Posix.rmdir(path)
}
