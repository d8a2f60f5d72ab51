import Foundation
import CShim
import Glibc

/// The built swiftfsd binary run as a child process, the way QEMU's users
/// run it: for what only a real process shows (socket files, limits,
/// capabilities, exit status and messages).
final class DaemonProcess {
    let process = Process()
    let stderrPath: String

    /// The binary next to the test bundle (`swift build` puts both in .build/<config>/), or $SWIFTFSD.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SWIFTFSD"], access(path, X_OK) == 0 { return path }
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        return bundle.deletingLastPathComponent().appendingPathComponent("swiftfsd").path
    }

    /// Starts swiftfsd with `arguments` under `umask` (set by a shell, so this test process keeps its own),
    /// through `launcher` if given (a command that execs its arguments, e.g. `setpriv ... --`).
    init(_ arguments: [String], umask mask: String = "022", launcher: [String] = []) throws {
        stderrPath = try TemporaryDirectory.make(prefix: "swiftfsd-log").path + "/stderr"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let command = launcher + [Self.binary] + arguments
        process.arguments = ["-c", "umask \(mask); exec \"$0\" \"$@\"", command[0]] + command.dropFirst()
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    /// The process that serves: with `--sandbox namespace` the started one's
    /// child (PID 1 of a new PID namespace), otherwise the started one.
    var servingPid: pid_t {
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) } ?? pid
    }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits (bounded) for the process to exit and returns its status; nil if it is still running.
    func exitStatus(within seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        if process.isRunning { kill(pid, SIGTERM) }
        if exitStatus(within: 10) == nil { kill(pid, SIGKILL); process.waitUntilExit() }
    }

    /// Runs swiftfsd to completion (for command lines it refuses).
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let daemon = try DaemonProcess(arguments)
        guard let status = daemon.exitStatus() else { daemon.stop(); return (-1, daemon.stderr) }
        return (status, daemon.stderr)
    }
}

enum TemporaryDirectory {
    static func make(prefix: String) throws -> URL {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return URL(fileURLWithPath: String(cString: path))
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(within seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Connects to a Unix socket; true if something accepted (or queued) the connection.
func canConnect(to path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { shim_connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    } == 0
}
