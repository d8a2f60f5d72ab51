import CShim
import FuseServer
import Glibc
import Logging
import ScatterGather
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// One FUSE-over-io_uring queue (the kernel keeps one per possible CPU and
/// routes a request to the queue of the CPU its caller runs on). Runs on its
/// own thread, pinned to that CPU: registers `depth` ring entries, then
/// answers each request the kernel puts into an entry and hands the entry
/// back with the reply in one COMMIT_AND_FETCH.
///
/// Requests that may wait indefinitely (SETLKW) run on a thread of their own
/// so the queue keeps serving (the unlock may come through this very
/// queue); their replies come back through an eventfd read on the ring.
///
/// `run` returns once every entry is gone: the kernel ends them all with
/// ENOTCONN when the connection ends (unmount, abort).
///
/// Generic over the handler, as FuseMountSession is, so the calls into it
/// are specialized rather than dispatched through an existential.
final class FuseUringQueue<Handler: FuseRequestHandler>: @unchecked Sendable { // used by its own thread; blocked-request threads touch only their entry
    let queueId: UInt16
    let pinToCpu: Bool
    let fuseFd: Int32
    let depth: Int
    let payloadCapacity: Int
    let handler: Handler
    let logger: Logger

    /// Requests smaller than this are copied out of the entry, so the reply
    /// can be written straight into it; larger ones (writes) are read in
    /// place and their (small) reply copied in afterwards.
    static var copiedRequestLimit: Int { 4096 }
    private static var wakeUserData: UInt64 { UInt64.max }

    private let entryHeaders: UnsafeMutableRawPointer
    private let entryPayloads: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutableBufferPointer<iovec>
    private let requestCopy: UnsafeMutableRawPointer
    private let replyCopy: UnsafeMutableRawPointer
    private let outHeader: UnsafeMutableRawPointer
    /// Entries whose blocked request finished on a helper thread: (entry, reply length).
    private let finishedBlocked = Mutex<[(Int, Int)]>([])
    private let wakeFd: Int32
    /// The eventfd read's target: the kernel writes it while the read is queued.
    private let wakeCounter = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    /// Not nested in the generic class: the 6.3 optimizer crashes on a typed
    /// throw of such a type (FunctionSignatureOpts, `!type.hasTypeParameter()`).
    typealias Failure = FuseMountError

    init(queueId: UInt16, pinToCpu: Bool, fuseFd: Int32, depth: Int, payloadCapacity: Int,
         handler: Handler, logger: Logger) throws(Failure) {
        self.queueId = queueId
        self.pinToCpu = pinToCpu
        self.fuseFd = fuseFd
        self.depth = depth
        self.payloadCapacity = payloadCapacity
        self.handler = handler
        self.logger = logger
        let wake = shim_eventfd(0)
        guard wake >= 0 else { throw Failure(description: "eventfd: \(String(cString: strerror(errno)))") }
        wakeFd = wake
        entryHeaders = .allocate(byteCount: depth * FuseUringReqHeader.wireSize, alignment: 4096)
        entryHeaders.initializeMemory(as: UInt8.self, repeating: 0, count: depth * FuseUringReqHeader.wireSize)
        entryPayloads = .allocate(byteCount: depth * payloadCapacity, alignment: 4096)
        iovecs = .allocate(capacity: depth * 2)
        requestCopy = .allocate(byteCount: Self.copiedRequestLimit, alignment: 16)
        replyCopy = .allocate(byteCount: payloadCapacity, alignment: 4096)
        outHeader = .allocate(byteCount: depth * FuseOutHeader.wireSize, alignment: 16)
        for entry in 0..<depth {
            iovecs[entry * 2] = iovec(iov_base: header(entry).baseAddress, iov_len: FuseUringReqHeader.wireSize)
            iovecs[entry * 2 + 1] = iovec(iov_base: payload(entry), iov_len: payloadCapacity)
        }
    }

    /// Set while the kernel holds entries: it may still copy requests into their buffers.
    private var kernelHoldsEntries = false

    deinit {
        // Only if `run` ended early with entries registered: leave their buffers to
        // the process rather than free memory the kernel may still write.
        if !kernelHoldsEntries {
            entryHeaders.deallocate()
            entryPayloads.deallocate()
        }
        iovecs.deallocate()
        requestCopy.deallocate()
        replyCopy.deallocate()
        outHeader.deallocate()
        wakeCounter.deallocate()
        Glibc.close(wakeFd)
    }

    /// The entry's header buffer: struct fuse_uring_req_header.
    func header(_ entry: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: entryHeaders + entry * FuseUringReqHeader.wireSize, count: FuseUringReqHeader.wireSize)
    }
    func payload(_ entry: Int) -> UnsafeMutableRawPointer { entryPayloads + entry * payloadCapacity }
    /// Where the handler writes the entry's fuse_out_header (copied into the entry's header buffer last).
    private func replyHeader(_ entry: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: outHeader + entry * FuseOutHeader.wireSize, count: FuseOutHeader.wireSize)
    }

    /// An iovec over `count` bytes of `buffer` from `offset` (the slice traps outside the buffer).
    private static func segment(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int, count: Int) -> iovec {
        iovec(iov_base: UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + count]).baseAddress, iov_len: count)
    }

    /// Serves until the kernel ends every entry. Returns nil then, or why the
    /// queue could not start (the session then fails: nothing is served).
    func run(registered: @Sendable () -> Void) -> String? {
        if pinToCpu && shim_pin_to_cpu(Int32(queueId)) != 0 {
            logger.debug("queue \(queueId): cannot pin to CPU \(queueId): errno \(errno)")
        }
        let ring: IoUring
        do {
            // Every entry holds one SQE at a time, plus the eventfd read.
            ring = try IoUring(entries: UInt32(depth + 1))
        } catch {
            return "queue \(queueId): \(error.description)"
        }
        defer { ring.close() }
        for entry in 0..<depth {
            guard let sqe = ring.nextSubmission() else { return "queue \(queueId): submission ring too small" }
            prepare(sqe, command: .register, commitId: 0, entry: entry,
                    iovecs: iovecs.baseAddress! + entry * 2)
        }
        armWake(ring)
        kernelHoldsEntries = true
        if let error = submit(ring, waitFor: 0) { return "queue \(queueId): register: \(error)" }
        registered()

        var live = depth
        var blocked = 0
        var wakeArmed = true
        var firstError: Int32 = 0
        while live > 0 || blocked > 0 {
            if let error = submit(ring, waitFor: 1) {
                logger.error("queue \(queueId): io_uring_enter: \(error)")
                return nil
            }
            ring.drainCompletions { completion in
                if completion.userData == Self.wakeUserData {
                    wakeArmed = false
                    return
                }
                let entry = Int(completion.userData)
                guard entry < depth else { return }
                if completion.result < 0 {
                    // ENOTCONN: the connection ended and took the entry with it.
                    live -= 1
                    if completion.result != -ENOTCONN && completion.result != -ECANCELED && firstError == 0 {
                        firstError = -completion.result
                    }
                    return
                }
                switch serve(entry: entry) {
                case .reply(let length):
                    commit(ring, entry: entry, replyLength: length)
                case .blocked:
                    blocked += 1
                    live -= 1
                }
            }
            if !wakeArmed && (live > 0 || blocked > 0) {
                for (entry, length) in finishedBlocked.withLock({ list in defer { list.removeAll() }; return list }) {
                    blocked -= 1
                    live += 1
                    commit(ring, entry: entry, replyLength: length)
                }
                armWake(ring)
                wakeArmed = true
            }
            // The connection is gone but a blocked request still waits: end it.
            if live == 0 && blocked > 0 { handler.interruptBlockedRequests() }
        }
        kernelHoldsEntries = false
        if firstError != 0 {
            let reason = firstError == EOPNOTSUPP ? " (FUSE over io_uring disabled: /sys/module/fuse/parameters/enable_uring)" : ""
            return "queue \(queueId): ring entry failed: \(String(cString: strerror(firstError)))\(reason)"
        }
        return nil
    }

    private func submit(_ ring: IoUring, waitFor: UInt32) -> String? {
        let error = ring.submit(waitFor: waitFor)
        return error == 0 ? nil : String(cString: strerror(error))
    }

    private func prepare(_ sqe: UnsafeMutableRawPointer, command: FuseUringCommand, commitId: UInt64, entry: Int,
                         iovecs: UnsafeMutablePointer<iovec>?) {
        var request = FuseUringCmdReq()
        request.commitID = commitId
        request.qid = queueId
        withUnsafeBytes(of: &request) { bytes in
            shim_uring_prep_cmd(sqe, fuseFd, command.rawValue, bytes.baseAddress, bytes.count,
                                UInt64(UInt(bitPattern: iovecs)), iovecs == nil ? 0 : 2, UInt64(entry))
        }
    }

    private func armWake(_ ring: IoUring) {
        guard let sqe = ring.nextSubmission() else { return }
        shim_uring_prep_read(sqe, wakeFd, wakeCounter, 8, Self.wakeUserData)
    }

    enum Outcome: Equatable {
        case reply(Int)
        case blocked
    }

    /// The request in `entry` as the handler's segments: fuse_in_header, the
    /// opcode's fixed argument (op_in), the rest (payload). Every length the
    /// kernel wrote is checked before use.
    func serve(entry: Int) -> Outcome {
        let head = header(entry)
        let written = ByteReader(UnsafeRawBufferPointer(head))
        // Both lie inside the buffer; a zero default would fail the length checks anyway.
        let ringEntry = written.read(FuseUringEntInOut.self, at: FuseUringReqHeader.entInOutOffset) ?? FuseUringEntInOut()
        let commitId = ringEntry.commitID
        let payloadSize = Int(ringEntry.payloadSize)
        let length = Int(written.read(FuseInHeader.self, at: FuseUringReqHeader.inOutOffset)?.len ?? 0)
        let argumentSize = length - FuseInHeader.wireSize - payloadSize
        guard payloadSize <= payloadCapacity, argumentSize >= 0, argumentSize <= FuseUringReqHeader.opInSize else {
            logger.warning("queue \(queueId): malformed ring request (len \(length), payload \(payloadSize))")
            return .reply(errorReply(entry: entry, unique: commitId, error: EIO))
        }
        let copied = payloadSize <= Self.copiedRequestLimit
        if copied { requestCopy.copyMemory(from: payload(entry), byteCount: payloadSize) }
        var requestSegments = [Self.segment(head, at: FuseUringReqHeader.inOutOffset, count: FuseInHeader.wireSize)]
        if argumentSize > 0 {
            requestSegments.append(Self.segment(head, at: FuseUringReqHeader.opInOffset, count: argumentSize))
        }
        if payloadSize > 0 {
            requestSegments.append(iovec(iov_base: copied ? requestCopy : payload(entry), iov_len: payloadSize))
        }
        let replyPayload = copied ? payload(entry) : replyCopy
        let replySegments = [iovec(iov_base: replyHeader(entry).baseAddress, iov_len: FuseOutHeader.wireSize),
                             iovec(iov_base: replyPayload, iov_len: payloadCapacity)]

        let segments = Segments(request: requestSegments, reply: replySegments)
        let mayBlock = segments.request.withUnsafeBufferPointer { handler.readHead(ScatterReader(segments: $0)).mayBlock }
        // A blocked request keeps only its own entry's buffers (no payload in the shared copy).
        if mayBlock && payloadSize == 0 {
            let started = NativeThread.start(name: "swiftfs-uring-lk") { [self] in
                let length = segments.handle(with: handler)
                let finished = finishReply(entry: entry, unique: commitId, length: length, payloadIsEntry: copied)
                finishedBlocked.withLock { $0.append((entry, finished)) }
                var one: UInt64 = 1
                _ = Glibc.write(wakeFd, &one, 8)
            }
            if let started {
                started.detach()
                return .blocked
            }
        }
        return .reply(finishReply(entry: entry, unique: commitId, length: segments.handle(with: handler),
                                  payloadIsEntry: copied))
    }

    /// A request's and its reply's buffers, handed to a helper thread for a blocked request.
    private struct Segments: @unchecked Sendable {
        let request: [iovec]
        let reply: [iovec]

        func handle(with handler: some FuseRequestHandler) -> Int {
            request.withUnsafeBufferPointer { requestBuffers in
                reply.withUnsafeBufferPointer { replyBuffers in
                    var reader = ScatterReader(segments: requestBuffers)
                    var writer = ScatterWriter(segments: replyBuffers)
                    return handler.handle(request: &reader, reply: &writer)
                }
            }
        }
    }

    /// Moves the handler's reply into the entry; returns the payload length.
    private func finishReply(entry: Int, unique: UInt64, length: Int, payloadIsEntry: Bool) -> Int {
        guard length >= FuseOutHeader.wireSize, length - FuseOutHeader.wireSize <= payloadCapacity else {
            // Every ring request needs an answer; the handler gave none.
            return errorReply(entry: entry, unique: unique, error: EIO)
        }
        let payloadLength = length - FuseOutHeader.wireSize
        if !payloadIsEntry && payloadLength > 0 {
            // Only a large request came in place; its reply was written aside.
            payload(entry).copyMemory(from: replyCopy, byteCount: payloadLength)
        }
        let out = ByteReader(UnsafeRawBufferPointer(replyHeader(entry))).read(FuseOutHeader.self, at: 0) ?? FuseOutHeader()
        ByteWriter(header(entry)).patch(out, at: FuseUringReqHeader.inOutOffset)
        return payloadLength
    }

    private func errorReply(entry: Int, unique: UInt64, error: Int32) -> Int {
        var out = FuseOutHeader()
        out.len = UInt32(FuseOutHeader.wireSize)
        out.error = -error
        out.unique = unique
        ByteWriter(header(entry)).patch(out, at: FuseUringReqHeader.inOutOffset)
        return 0
    }

    private func commit(_ ring: IoUring, entry: Int, replyLength payloadLength: Int) {
        let head = header(entry)
        var ringEntry = ByteReader(UnsafeRawBufferPointer(head)).read(FuseUringEntInOut.self, at: FuseUringReqHeader.entInOutOffset)
            ?? FuseUringEntInOut()
        ringEntry.payloadSize = UInt32(payloadLength)
        ByteWriter(head).patch(ringEntry, at: FuseUringReqHeader.entInOutOffset)
        guard let sqe = ring.nextSubmission() else {
            logger.error("queue \(queueId): submission ring full; entry \(entry) lost")
            return
        }
        prepare(sqe, command: .commitAndFetch, commitId: ringEntry.commitID, entry: entry, iovecs: nil)
    }
}
