import CShim
import Glibc
import SystemSupport
import Testing
import VhostUser

/// The listener owns its socket, the socket's directory and each accepted
/// connection: all are closed when their owner goes. Other tests open
/// descriptors meanwhile, so the check looks for these objects (by inode) in
/// /proc/self/fd rather than comparing counts.
@Suite struct SocketListenerTests {
    /// Descriptors of this process that refer to (device, inode).
    static func descriptors(referringTo object: (dev_t, ino_t)) -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var status = stat()
            if fstat(fd, &status) == 0, status.st_dev == object.0, status.st_ino == object.1 { found.append(fd) }
        }
        return found
    }

    static func identity(_ fd: Int32) -> (dev_t, ino_t) {
        var status = stat()
        precondition(fstat(fd, &status) == 0)
        return (status.st_dev, status.st_ino)
    }

    @Test func aListenerAndItsConnectionCloseTheirDescriptorsWhenDropped() throws {
        var template = Array("/tmp/swiftfs-listener.XXXXXX".utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { rmdir(directory) }
        let path = directory + "/vhost.sock"
        var directoryStatus = stat()
        #expect(stat(directory, &directoryStatus) == 0)
        let directoryObject = (directoryStatus.st_dev, directoryStatus.st_ino)

        var socketObject: (dev_t, ino_t)?
        var connectionObject: (dev_t, ino_t)?
        do {
            let listener = try SocketListener(path: path)
            socketObject = Self.identity(listener.fd)
            #expect(Self.descriptors(referringTo: directoryObject).count == 1, "the directory is held, to remove the socket later")
            // A front end connects; the accepted connection is another owned socket.
            let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(client) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(connected == 0)
            do {
                let connection = try listener.accept()
                connectionObject = Self.identity(connection.fd)
                #expect(Self.descriptors(referringTo: connectionObject!).count == 1)
            }
            #expect(Self.descriptors(referringTo: connectionObject!).isEmpty, "the connection closed its socket")
            listener.remover.remove()
        }
        #expect(Self.descriptors(referringTo: socketObject!).isEmpty, "the listening socket is closed")
        #expect(Self.descriptors(referringTo: directoryObject).isEmpty, "the directory descriptor is closed")
        #expect(access(path, F_OK) != 0, "the remover removed the socket file")
    }
}
