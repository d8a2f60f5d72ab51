import Glibc

/// Host-side file helpers for tests (plain libc: Foundation's module map
/// clashes with CShim's _GNU_SOURCE view of the C headers).
public enum HostFiles {
    public static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "open \(path): \(errno)")
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                precondition(n > 0)
                done += n
            }
        }
        close(fd)
    }

    public static func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result += chunk[0..<n]
        }
        return result
    }

    public static func readText(_ path: String) -> String? { read(path).map { String(decoding: $0, as: UTF8.self) } }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }
}
