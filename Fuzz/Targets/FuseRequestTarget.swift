// libFuzzer target: the FUSE request decoder and server over a real
// passthrough share in a scratch directory. Each input gets a fresh server
// and share (a file, a directory, a symlink), an INIT as Linux sends it,
// then the input as requests: each takes `len` bytes from its header when
// that fits, the last one takes the rest (so wrong lengths are fuzzed too).
// Oracle beyond "no crash": every reply's header length is what handle()
// returned and fits the reply buffer, and nothing appears beside the share.
import FuseServer
import Glibc
import Logging
import Passthrough
import SwiftFSProtocol

private let replyCapacity = (1 << 20) + 4096
private nonisolated(unsafe) let replyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: replyCapacity, alignment: 4096)

/// Removes `name` under the directory `parent` and everything below it (rm -rf without a fork).
/// Names are kept as bytes: a fuzzed request may create names that are not UTF-8.
private func removeTree(_ parent: Int32, _ name: [CChar]) {
    if unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM) { return }
    let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd >= 0, let dir = fdopendir(fd) {
        var names: [[CChar]] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
            }
            if entryName != [46, 0] && entryName != [46, 46, 0] { names.append(entryName) }
        }
        for entryName in names { removeTree(dirfd(dir), entryName) }
        closedir(dir)
    }
    unlinkat(parent, name, AT_REMOVEDIR)
}

private func bytes<T: WireRecord>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

private func exchange(_ server: FuseServer<PassthroughFileSystem>, _ request: UnsafeRawBufferPointer) {
    let written = server.handle(request: request, reply: replyBuffer)
    guard written > 0 else { return }
    precondition(written >= FuseOutHeader.wireSize && written <= replyCapacity, "reply of \(written) bytes")
    let header = replyBuffer.loadUnaligned(as: FuseOutHeader.self)
    precondition(Int(header.len) == written, "reply header len \(header.len), \(written) bytes written")
}

private func initRequest() -> [UInt8] {
    var initIn = FuseInitIn()
    initIn.major = 7
    initIn.minor = 38
    initIn.maxReadahead = 128 * 1024
    initIn.flags = 0xffff_ffff
    initIn.flags2 = 0xffff_ffff
    var header = FuseInHeader()
    header.len = UInt32(FuseInHeader.wireSize + FuseInitIn.wireSize)
    header.opcode = FuseOpcode.`init`.rawValue
    header.unique = 1
    return bytes(of: header) + bytes(of: initIn)
}

public enum FuseRequestTarget {
    /// For the fuzzer process (not a test process, where other tests write larger files):
    /// what a fuzzed request writes is bounded, 1 MiB per file, EFBIG instead of SIGXFSZ.
    public static func limitFileSizes() {
        var limit = rlimit(rlim_cur: 1 << 20, rlim_max: 1 << 20)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        signal(SIGXFSZ, SIG_IGN)
    }

    /// One fuzz input (libFuzzer, or a corpus file replayed by FuzzReplayTests).
    public static func run(_ data: UnsafePointer<UInt8>, _ size: Int) {
        // A parent for this input's share, which must never leak into it. On tmpfs: on a disk
        // file system, making and removing the share for each input is most of the time.
        var template = Array("/dev/shm/swiftfs-fuzz-fuse.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return }
        let parent = String(cString: made)
        let share = parent + "/share"
        mkdir(share, 0o755)
        mkdir(share + "/d", 0o755)
        let fd = open(share + "/f", O_CREAT | O_WRONLY, 0o644)
        _ = write(fd, "0123456789abcdef", 16)
        close(fd)
        symlink("f", share + "/l")
        defer {
            removeTree(AT_FDCWD, Array(share.utf8CString))
            var names: [String] = []
            if let dir = opendir(parent) {
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
            }
            precondition(names.isEmpty, "the fuzzed share created \(names) beside itself")
            rmdir(parent)
        }

        var options = PassthroughOptions(sharedDir: share)
        options.lockWaitLimit = .milliseconds(10)
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        guard let server = try? makePassthroughServer(options: options, logger: logger) else { return }
        initRequest().withUnsafeBytes { exchange(server, $0) }

        var rest = UnsafeRawBufferPointer(start: data, count: size)
        while !rest.isEmpty {
            var take = rest.count
            if rest.count >= 4 {
                let length = Int(rest.loadUnaligned(as: UInt32.self))
                if length >= FuseInHeader.wireSize && length < rest.count { take = length }
            }
            exchange(server, UnsafeRawBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
        }
    }
}
