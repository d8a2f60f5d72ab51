import CShim
import Glibc
import Logging

/// RLIMIT_NOFILE at start-up, as virtiofsd's `--rlimit-nofile`. Every open
/// file and directory of the guest is a descriptor of ours (and so is every
/// inode when file handles are not in use), so by default the soft limit
/// goes as high as allowed: up to fs.nr_open (raising the hard limit needs
/// CAP_SYS_RESOURCE, which root has), else up to the hard limit.
enum OpenFileLimit {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `requested`: nil raises as far as allowed, 0 leaves the limit alone,
    /// N sets soft and hard to N (failing if that is not allowed).
    static func apply(_ requested: Int?, logger: Logger) throws(Failure) {
        var current = rlimit()
        guard getrlimit(shim_RLIMIT_NOFILE, &current) == 0 else { throw Failure(description: "getrlimit: \(errorText())") }
        switch requested {
        case 0?:
            logger.info("open file limit left at \(describe(current)) (--rlimit-nofile 0)")
        case let wanted?:
            guard wanted > 0 else { throw Failure(description: "--rlimit-nofile must not be negative") }
            var limit = rlimit(rlim_cur: rlim_t(wanted), rlim_max: rlim_t(wanted))
            guard setrlimit(shim_RLIMIT_NOFILE, &limit) == 0 else {
                throw Failure(description: "--rlimit-nofile \(wanted): setrlimit: \(errorText())"
                              + " (the hard limit is \(current.rlim_max); raising it needs CAP_SYS_RESOURCE"
                              + " and at most fs.nr_open = \(systemMaximum().map(String.init) ?? "?"))")
            }
            logger.info("open file limit set to \(wanted)")
        case nil:
            var raised = current
            if let maximum = systemMaximum(), rlim_t(maximum) > current.rlim_max {
                raised = rlimit(rlim_cur: rlim_t(maximum), rlim_max: rlim_t(maximum))
                if setrlimit(shim_RLIMIT_NOFILE, &raised) != 0 {
                    let why = errorText()
                    logger.info("hard open file limit \(current.rlim_max) kept: raising it to fs.nr_open = \(maximum) needs CAP_SYS_RESOURCE (\(why))")
                    raised = current
                }
            }
            if raised.rlim_cur < raised.rlim_max {
                raised.rlim_cur = raised.rlim_max
                if setrlimit(shim_RLIMIT_NOFILE, &raised) != 0 {
                    logger.warning("cannot raise the open file limit \(describe(current)): \(errorText())")
                    return
                }
            }
            logger.info("open file limit \(describe(raised)) (was \(describe(current)))")
        }
    }

    /// /proc/sys/fs/nr_open: the most any process may be allowed.
    private static func systemMaximum() -> Int? {
        guard let file = fopen("/proc/sys/fs/nr_open", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let value = strtol(line, nil, 10)
        return value > 0 ? value : nil
    }

    private static func describe(_ limit: rlimit) -> String { "soft \(limit.rlim_cur), hard \(limit.rlim_max)" }
    private static func errorText() -> String { String(cString: strerror(errno)) }
}
