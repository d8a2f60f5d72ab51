import Glibc
import SwiftFSProtocol

/// How a session serves FUSE over io_uring (libfuse names the options
/// `-o io_uring` and `-o io_uring_q_depth=N`, depth 8 by default).
public struct FuseUringSettings: Sendable {
    /// Ring entries per queue: requests a queue can hold at once.
    public var queueDepth: Int

    public static let defaultQueueDepth = 8
    /// The kernel accepts at most this many entries per queue (FUSE_URING_MAX_QUEUE_DEPTH is higher,
    /// but each entry pins a payload buffer of max_write bytes).
    public static let maximumQueueDepth = 128

    public init(queueDepth: Int = Self.defaultQueueDepth) {
        self.queueDepth = min(max(1, queueDepth), Self.maximumQueueDepth)
    }

    static let parameterPath = "/sys/module/fuse/parameters/enable_uring"

    /// Refuses before mounting when the kernel cannot or will not serve io_uring.
    static func checkKernel() throws(FuseMountError) {
        guard let file = fopen(parameterPath, "r") else {
            throw FuseMountError(description: "FUSE over io_uring: this kernel has none (no \(parameterPath); needs Linux 6.14+ with CONFIG_FUSE_IO_URING)")
        }
        defer { fclose(file) }
        guard fgetc(file) == Int32(UInt8(ascii: "Y")) else {
            throw FuseMountError(description: "FUSE over io_uring is disabled in this kernel: as root, echo Y > \(parameterPath)")
        }
    }

    /// The payload buffer the kernel expects of every ring entry, from the
    /// INIT reply: max(FUSE_MIN_READ_BUFFER, max_write, max_pages pages), with
    /// max_pages at least FUSE_DEFAULT_MAX_PAGES_PER_REQ (32, also its value without FUSE_MAX_PAGES).
    static func payloadSize(grantedIn reply: FuseInitOut) -> Int {
        let defaultMaxPages = 32
        let granted = FuseInitFlags(flags: reply.flags, flags2: reply.flags2)
        let maxPages = granted.contains(.maxPages) ? Int(reply.maxPages) : defaultMaxPages
        return max(FuseProtocol.minReadBuffer, (Int(reply.maxWrite) + 4095) & ~4095, max(maxPages, defaultMaxPages) * 4096)
    }

    /// CPU ids 0..<n the kernel keeps queues for (num_possible_cpus), from
    /// /sys/devices/system/cpu/possible ("0-3"), else the configured CPUs.
    static func possibleCpuCount() -> Int {
        if let file = fopen("/sys/devices/system/cpu/possible", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            if fgets(&line, Int32(line.count), file) != nil {
                let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                // "0-3", "0", or "0-3,5-7": the highest id + 1.
                let highest = text.split(separator: ",").compactMap { $0.split(separator: "-").last.flatMap { Int($0) } }.max()
                if let highest { return highest + 1 }
            }
        }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
    }
}
