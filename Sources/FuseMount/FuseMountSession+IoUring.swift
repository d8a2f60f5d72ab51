import FuseServer
import Glibc
import SwiftFSProtocol

/// FUSE over io_uring: INIT still comes by read(); its reply asks for
/// FUSE_OVER_IO_URING, and once the kernel has it the queue threads
/// register their ring entries (the kernel holds new requests until every
/// queue has entries).
extension FuseMountSession {
    func answerInitForIoUring(fd: Int32, request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer,
                              session: FuseDevice) {
        guard let settings = ioUring else { return }
        let fields = ByteReader(request)
        let unique = fields.read(FuseInHeader.self, at: 0)?.unique ?? 0
        guard let initIn = fields.read(FuseInitIn.self, at: FuseInHeader.wireSize),
              FuseInitFlags(flags: initIn.flags, flags2: initIn.flags2).contains(.overIoUring) else {
            refuse(fd: fd, unique: unique, reply: reply,
                   "FUSE over io_uring: the kernel did not offer FUSE_OVER_IO_URING in INIT (is \(FuseUringSettings.parameterPath) Y?)")
            return
        }
        let length = handler.handle(request: request, reply: reply)
        let answer = ByteReader(UnsafeRawBufferPointer(rebasing: reply[..<min(max(length, 0), reply.count)]))
        guard answer.read(FuseOutHeader.self, at: 0)?.error == 0,
              var initOut = answer.read(FuseInitOut.self, at: FuseOutHeader.wireSize) else {
            refuse(fd: fd, unique: unique, reply: reply, "FUSE over io_uring: INIT failed in the file system")
            return
        }
        let granted = FuseInitFlags(flags: initOut.flags, flags2: initOut.flags2)
        guard granted.contains(.initExt) else {
            refuse(fd: fd, unique: unique, reply: reply, "FUSE over io_uring: INIT reply without FUSE_INIT_EXT")
            return
        }
        initOut.flags2 |= UInt32(truncatingIfNeeded: FuseInitFlags.overIoUring.rawValue >> 32)
        ByteWriter(reply).patch(initOut, at: FuseOutHeader.wireSize)
        let payload = FuseUringSettings.payloadSize(grantedIn: initOut)
        guard Glibc.write(fd, reply.baseAddress, length) == length else {
            fail("FUSE over io_uring: writing the INIT reply: errno \(errno)")
            return
        }
        let queues = FuseUringSettings.possibleCpuCount()
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        logger.info("FUSE over io_uring: \(queues) queues, \(settings.queueDepth) entries each, \(payload >> 10) KiB payload buffers")
        for queue in 0..<queues {
            let started = workers.start(name: "swiftfs-uring-\(queue)") { [self] in
                withExtendedLifetime(session) {
                    do throws(FuseMountError) {
                        let ring = try FuseUringQueue(queueId: UInt16(queue), pinToCpu: queue < online, fuseFd: session.fd,
                                                      depth: settings.queueDepth, payloadCapacity: payload,
                                                      handler: handler, logger: logger)
                        if let error = ring.run(registered: {}) { fail(error) }
                    } catch {
                        fail("queue \(queue): \(error.description)")
                    }
                }
            }
            if !started { fail("FUSE over io_uring: cannot start the thread of queue \(queue)") }
        }
    }

    /// Answers INIT with an error (the kernel then refuses every access) and ends the session.
    private func refuse(fd: Int32, unique: UInt64, reply: UnsafeMutableRawBufferPointer, _ reason: String) {
        var header = FuseOutHeader()
        header.len = UInt32(FuseOutHeader.wireSize)
        header.error = -EPROTO
        header.unique = unique
        ByteWriter(reply).patch(header, at: 0)
        _ = Glibc.write(fd, reply.baseAddress, FuseOutHeader.wireSize)
        fail(reason)
    }

    /// Records why io_uring cannot serve (the first reason wins) and unmounts: `run` then throws it.
    func fail(_ reason: String) {
        logger.error("\(reason)")
        failure.withLock { if $0 == nil { $0 = reason } }
        unmount()
    }
}
