import CShim

/// `-o` options for a /dev/fuse mount, split the way mount(2) wants them:
/// generic flags (ro, nosuid, noexec...) become mount flags; FUSE options
/// (allow_other, default_permissions, max_read=N, blksize=N...) go into the
/// data string after the fd=,rootmode=,user_id=,group_id= the session sets.
/// `fsname=` and `subtype=` name the mount source and type, as libfuse does.
struct FuseMountOptions {
    var flags: UInt = shim_MS_NOSUID | shim_MS_NODEV
    var data: [String] = ["allow_other", "default_permissions"]
    var source = "swiftfsd"
    var type = "fuse.swiftfsd"

    struct Invalid: Error, CustomStringConvertible {
        let option: String
        var description: String { "invalid mount option '\(option)'" }
    }

    private static let flagOptions: [String: (set: UInt, clear: UInt)] = [
        "ro": (shim_MS_RDONLY, 0), "rw": (0, shim_MS_RDONLY),
        "nosuid": (shim_MS_NOSUID, 0), "suid": (0, shim_MS_NOSUID),
        "nodev": (shim_MS_NODEV, 0), "dev": (0, shim_MS_NODEV),
        "noexec": (UInt(MS_NOEXEC), 0), "exec": (0, UInt(MS_NOEXEC)),
        "noatime": (UInt(MS_NOATIME), 0), "nodiratime": (UInt(MS_NODIRATIME), 0),
        "sync": (UInt(MS_SYNCHRONOUS), 0), "dirsync": (UInt(MS_DIRSYNC), 0),
    ]
    /// Set by the session itself; a caller must not smuggle in another fd.
    private static let reserved = ["fd", "rootmode", "user_id", "group_id"]

    init(_ options: [String]) throws(Invalid) {
        for option in options.flatMap({ $0.split(separator: ",").map(String.init) }) where !option.isEmpty {
            let key = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
            if let flag = Self.flagOptions[option] {
                flags = (flags | flag.set) & ~flag.clear
            } else if Self.reserved.contains(key) {
                throw Invalid(option: option)
            } else if key == "fsname" {
                source = String(option.dropFirst("fsname=".count))
            } else if key == "subtype" {
                type = "fuse." + option.dropFirst("subtype=".count)
            } else if !data.contains(option) {
                data.append(option)
            }
        }
    }

    /// The data string for mount(2).
    func dataString(fd: Int32, uid: UInt32, gid: UInt32) -> String {
        (["fd=\(fd)", "rootmode=40000", "user_id=\(uid)", "group_id=\(gid)"] + data).joined(separator: ",")
    }
}
