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
        let unique = request.load(fromByteOffset: 8, as: UInt64.self)
        let initAt = FuseInHeader.wireSize
        let offered = request.count >= initAt + 20
            && request.load(fromByteOffset: initAt + 12, as: UInt32.self) & FuseUringLayout.initFlagInitExt != 0
            && request.load(fromByteOffset: initAt + 16, as: UInt32.self) & FuseUringLayout.initFlags2OverIoUring != 0
        guard offered else {
            refuse(fd: fd, unique: unique, reply: reply,
                   "FUSE over io_uring: the kernel did not offer FUSE_OVER_IO_URING in INIT (is \(FuseUringSettings.parameterPath) Y?)")
            return
        }
        let length = handler.handle(request: request, reply: reply)
        let outAt = FuseOutHeader.wireSize
        guard length >= outAt + 36, reply.load(fromByteOffset: 4, as: Int32.self) == 0 else {
            refuse(fd: fd, unique: unique, reply: reply, "FUSE over io_uring: INIT failed in the file system")
            return
        }
        let flags = reply.load(fromByteOffset: outAt + 12, as: UInt32.self)
        guard flags & FuseUringLayout.initFlagInitExt != 0 else {
            refuse(fd: fd, unique: unique, reply: reply, "FUSE over io_uring: INIT reply without FUSE_INIT_EXT")
            return
        }
        let flags2 = reply.load(fromByteOffset: outAt + 32, as: UInt32.self) | FuseUringLayout.initFlags2OverIoUring
        reply.storeBytes(of: flags2, toByteOffset: outAt + 32, as: UInt32.self)
        // The kernel's ring payload size: max(FUSE_MIN_READ_BUFFER, max_write, max_pages pages).
        let maxWrite = Int(reply.load(fromByteOffset: outAt + 20, as: UInt32.self))
        let maxPages = flags & FuseUringLayout.initFlagMaxPages != 0
            ? Int(reply.load(fromByteOffset: outAt + 28, as: UInt16.self)) : FuseUringLayout.defaultMaxPages
        let payload = max(FuseUringLayout.minimumPayload, (maxWrite + 4095) & ~4095, max(maxPages, FuseUringLayout.defaultMaxPages) * 4096)
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
                    do throws(FuseUringQueue.Failure) {
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
        reply.storeBytes(of: UInt32(FuseOutHeader.wireSize), toByteOffset: 0, as: UInt32.self)
        reply.storeBytes(of: -EPROTO, toByteOffset: 4, as: Int32.self)
        reply.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
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
