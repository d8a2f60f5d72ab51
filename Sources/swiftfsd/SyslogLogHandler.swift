import CShim
import Glibc
import Logging

/// `--syslog`: log lines go to syslog (facility daemon, tagged swiftfsd[pid])
/// instead of stderr. The connection to /dev/log is opened at once
/// (LOG_NDELAY), before the sandbox hides /dev.
struct SyslogLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    /// Opens the syslog connection; call once, before entering the sandbox.
    static func open() {
        // openlog keeps the pointer: the ident must outlive this call.
        openlog(strdup("swiftfsd"), shim_LOG_PID | shim_LOG_NDELAY, shim_LOG_DAEMON)
    }

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let details = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        shim_syslog(Self.priority(event.level), "\(label): \(event.message)\(details)")
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }
}
