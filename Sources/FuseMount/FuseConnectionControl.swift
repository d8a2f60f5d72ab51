import Glibc
import SystemSupport

/// The FUSE control file system's handle on one connection
/// (/sys/fs/fuse/connections/<id>/abort, id = the mount's device minor):
/// aborting ends a connection a lazy unmount left alive because files on it
/// were still open. Found in /proc/self/mountinfo, so nothing has to stat
/// the mount (which would be a request to ourselves).
struct FuseConnectionControl {
    let abortPath: String

    /// The control of the FUSE mount at `mountPoint`, if fusectl is mounted and the mount is listed.
    init?(mountPoint: String) {
        guard let mountinfo = Self.readFile("/proc/self/mountinfo") else { return nil }
        let escaped = Self.escapeForMountinfo(mountPoint)
        var found: String?
        for line in mountinfo.split(separator: "\n") {
            // "36 35 0:52 / /mnt/point rw,... - fuse.swiftfsd swiftfsd rw,..."
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == escaped, line.contains(" - fuse") else { continue }
            let device = fields[2].split(separator: ":")
            if device.count == 2 { found = String(device[1]) } // the last matching line is the topmost mount
        }
        guard let id = found else { return nil }
        let path = "/sys/fs/fuse/connections/\(id)/abort"
        guard access(path, W_OK) == 0 else { return nil }
        abortPath = path
    }

    /// Ends the connection: pending and future reads on /dev/fuse fail with ENODEV.
    func abort() -> Bool {
        let raw = open(abortPath, O_WRONLY | O_CLOEXEC)
        guard raw >= 0 else { return false }
        let fd = OwnedDescriptor(raw)
        return write(fd.rawValue, "1", 1) == 1
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func escapeForMountinfo(_ path: String) -> Substring {
        var result = ""
        for scalar in path.unicodeScalars {
            switch scalar {
            case " ": result += "\\040"
            case "\t": result += "\\011"
            case "\n": result += "\\012"
            case "\\": result += "\\134"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return Substring(result)
    }

    private static func readFile(_ path: String) -> String? {
        let raw = open(path, O_RDONLY | O_CLOEXEC)
        guard raw >= 0 else { return nil }
        let fd = OwnedDescriptor(raw)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd.rawValue, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
