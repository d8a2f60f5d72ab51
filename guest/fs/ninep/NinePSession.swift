// One 9P2000.L connection over a virtio-9p device: version negotiation, attach,
// framing into two preallocated buffers, fids and tags, and the checks every
// reply passes before anyone reads it. Requests are synchronous (the device
// API polls), so one request and one reply buffer suffice.
//
// A reply is device input: its size must lie within the buffers and equal both
// the bytes the device says it wrote and the bytes the caller parses; its tag
// must be the request's and its type the request's + 1 or Rlerror. Anything
// else is EIO, never a trap.

final class NinePSession {
    let device: VirtioNinePDevice
    /// Negotiated in Tversion.
    private(set) var messageSize = NinePSession.requestedMessageSize
    /// The attach fid: the shared directory.
    static let rootFid: UInt32 = 0

    /// Linux's virtio transport allows 512 KiB; the server may answer with less.
    static let requestedMessageSize = 512 * 1024
    /// Header, fixed arguments and two names of up to 4 KiB each (Trenameat).
    static let requestCapacity = 9 * 1024
    /// The longest fixed reply: Rwalk with 16 qids, Rgetattr, Rversion with its string.
    static let replyCapacity = 4096

    private let request: UnsafeMutableRawBufferPointer
    private let reply: UnsafeMutableRawBufferPointer
    private var exchange = DeviceExchange()
    private var nextTag: UInt16 = 0
    private var freeFids: [UInt32] = []
    private var nextFid: UInt32 = NinePSession.rootFid + 1
    /// Fids of nodes nobody references any more; clunked between operations.
    private var pendingClunks: [UInt32] = []
    /// Fids whose state on the server is unknown (a malformed reply or a broken device): never reused.
    private var abandonedFidCount = 0
    /// Whether the last call's reply was a well-formed Rlerror: the server surely refused the
    /// request, so a fid the request would have created does not exist.
    private var lastReplyWasServerError = false
    /// Requests sent per T-message type and time spent waiting for the device, for reports.
    private(set) var requestCounts = [UInt64](repeating: 0, count: 128)
    private(set) var deviceNanoseconds: UInt64 = 0

    init(device: VirtioNinePDevice) throws(Errno) {
        self.device = device
        request = .allocate(byteCount: NinePSession.requestCapacity, alignment: 64)
        reply = .allocate(byteCount: NinePSession.replyCapacity, alignment: 64)
        try negotiateVersion()
        var attach = try call(.attach(fid: NinePSession.rootFid, authFid: NineP.noFid, userName: "root",
                                      attachName: "", userID: 0))
        guard try attach.qid().isDirectory else { throw .ENOTDIR }
        try attach.end()
    }

    deinit {
        request.deallocate()
        reply.deallocate()
    }

    /// Bytes of file data one Tread/Twrite may carry (`ioUnit` from Rlopen, if the server set one).
    func dataLimit(ioUnit: UInt32) -> Int {
        let limit = messageSize - NineP.ioHeaderSize
        return ioUnit == 0 ? limit : min(Int(ioUnit), limit)
    }

    /// Tversion: msize up to 512 KiB; the server must answer 9P2000.L and no larger msize.
    private func negotiateVersion() throws(Errno) {
        var answer = try call(.version(messageSize: UInt32(NinePSession.requestedMessageSize), version: NineP.version))
        let size = try answer.u32()
        let version = try answer.string()
        try answer.end()
        guard version == NineP.version else { throw .EPROTO }
        guard size >= UInt32(NineP.minimumMessageSize), size <= UInt32(NinePSession.requestedMessageSize) else { throw .EIO }
        messageSize = Int(size)
    }

    // MARK: Requests

    /// Sends `message` (plus `payload`, Twrite's data) and checks the reply. With
    /// `replyPayload` (Tread, Treaddir) the device writes size, type, tag and count into
    /// the reply buffer and the data straight into `replyPayload`.
    func call(_ message: NinePRequest, payload: UnsafeRawBufferPointer? = nil,
              replyPayload: UnsafeMutableRawBufferPointer? = nil) throws(Errno) -> NinePReply {
        let type = message.type
        lastReplyWasServerError = false
        let tag = type == .tversion ? NineP.noTag : takeTag()
        var writer = NinePWriter(request)
        guard message.encode(tag: tag, into: &writer) else { throw .ENAMETOOLONG }
        let payloadCount = payload?.count ?? 0
        // Nothing may exceed msize in either direction.
        guard writer.offset + payloadCount <= messageSize,
              NineP.dataReplyHeaderSize + (replyPayload?.count ?? 0) <= messageSize else { throw .EINVAL }

        let fixedCapacity = replyPayload == nil ? NinePSession.replyCapacity : NineP.dataReplyHeaderSize
        exchange.set(request: request, count: writer.offset, payload: payload,
                     reply: reply, fixedReplyCount: fixedCapacity, replyPayload: replyPayload)
        let start = monotonicNanoseconds()
        let result = device.call(readable: exchange.readable, writable: exchange.writable)
        deviceNanoseconds &+= monotonicNanoseconds() &- start
        requestCounts[Int(type.rawValue) & 127] += 1
        guard let written = result else { throw .EIO }
        return try check(reply: written, to: type, tag: tag, fixedCapacity: fixedCapacity,
                         payloadCapacity: replyPayload?.count ?? 0)
    }

    /// The header checks; returns the body (in the reply buffer) and how much the device
    /// wrote into the payload buffer.
    private func check(reply written: Int, to type: NinePMessageType, tag: UInt16, fixedCapacity: Int,
                       payloadCapacity: Int) throws(Errno) -> NinePReply {
        guard written >= NineP.headerSize, written <= fixedCapacity + payloadCapacity else { throw .EIO }
        var header = NinePReader(UnsafeRawBufferPointer(rebasing: reply[0..<NineP.headerSize]))
        let size = header.u32()!, replyType = header.u8()!, replyTag = header.u16()!
        guard Int(size) == written, replyTag == tag else { throw .EIO }
        let fixedEnd = min(written, fixedCapacity)
        var body = NinePReply(reader: NinePReader(UnsafeRawBufferPointer(rebasing: reply[NineP.headerSize..<fixedEnd])),
                              payloadCount: written - fixedEnd)
        if replyType == NinePMessageType.rlerror.rawValue {
            let code = try body.u32()
            guard body.payloadCount == 0 else { throw .EIO }
            try body.end()
            guard code > 0, code < 4096 else { throw .EIO }
            lastReplyWasServerError = true
            throw Errno(Int32(code))
        }
        guard replyType == type.replyType else { throw .EIO }
        return body
    }

    /// Tags are reused in turn (one request is in flight at a time); NOTAG belongs to Tversion.
    private func takeTag() -> UInt16 {
        let tag = nextTag
        nextTag = nextTag &+ 1 == NineP.noTag ? 0 : nextTag &+ 1
        return tag
    }

    // MARK: Fids

    /// A fid number for a new walk; numbers come back after their clunk.
    func allocateFid() throws(Errno) -> UInt32 {
        if let fid = freeFids.popLast() { return fid }
        guard nextFid < NineP.noFid else { throw .EMFILE }
        defer { nextFid += 1 }
        return nextFid
    }

    /// After a request that would have created `fid` failed: a refused request (Rlerror) created
    /// nothing, so the number is free again; otherwise the server may hold it, so clunk it.
    private func discardFid(_ fid: UInt32) {
        if lastReplyWasServerError { freeFids.append(fid) } else { clunk(fid) }
    }

    /// Fids the server holds for us (the root included) or that we could not clunk.
    var fidsInUse: Int { Int(nextFid) - freeFids.count - pendingClunks.count }

    /// Twalk from `fid` through `names` (at most 16) to a new fid. ENOENT when the server
    /// walked fewer names (then no new fid exists); the qids of the names walked.
    func walk(from fid: UInt32, names: [String]) throws(Errno) -> (fid: UInt32, qids: [NinePQid]) {
        let newFid = try allocateFid()
        var answer: NinePReply
        do {
            answer = try call(.walk(fid: fid, newFid: newFid, names: names))
        } catch {
            discardFid(newFid)
            throw error
        }
        var qids: [NinePQid] = []
        do throws(Errno) {
            let count = Int(try answer.u16())
            guard count <= names.count else { throw .EIO }
            for _ in 0..<count { qids.append(try answer.qid()) }
            try answer.end()
        } catch {
            // A malformed Rwalk: whether the server made the fid is unknown, so clunk it.
            clunk(newFid)
            throw error
        }
        // A partial walk creates no fid (9P2000: only a full walk does).
        guard qids.count == names.count else {
            freeFids.append(newFid)
            throw .ENOENT
        }
        return (newFid, qids)
    }

    /// Tclunk now. The fid is gone after any well-formed answer, Rlerror included (9P says
    /// so); after a malformed one or none its number is abandoned, never reused.
    @discardableResult
    func clunk(_ fid: UInt32) -> Errno? {
        do {
            let answer = try call(.clunk(fid: fid))
            try answer.end()
        } catch {
            if lastReplyWasServerError { freeFids.append(fid) } else { abandonedFidCount += 1 }
            return error
        }
        freeFids.append(fid)
        return nil
    }

    /// Clunks `fid` at the next `flushClunks` (a node's deinit: no request may be sent there).
    func clunkLater(_ fid: UInt32) { pendingClunks.append(fid) }

    var hasPendingClunks: Bool { !pendingClunks.isEmpty }

    func flushClunks() {
        while let fid = pendingClunks.popLast() { clunk(fid) }
    }

    // MARK: Reports

    func resetStatistics() {
        for index in requestCounts.indices { requestCounts[index] = 0 }
        deviceNanoseconds = 0
    }

    /// "Twalk=12 Tgetattr=30 ..." for the messages sent since the last reset.
    var statisticsSummary: String {
        var text = ""
        var total: UInt64 = 0
        for (code, count) in requestCounts.enumerated() where count > 0 {
            let name = NinePMessageType(rawValue: UInt8(code))?.name ?? "T\(code)"
            text += "\(name)=\(count) "
            total += count
        }
        let perRequest = total == 0 ? 0 : deviceNanoseconds / total
        text += "total=\(total) device_ms=\(deviceNanoseconds / 1_000_000) device_ns_per_request=\(perRequest)"
        return abandonedFidCount == 0 ? text : text + " abandoned_fids=\(abandonedFidCount)"
    }

    var summary: String { "9P2000.L, msize \(messageSize)" }
}

/// A checked reply body. Every read past what the device wrote is EIO, and `end`
/// insists the caller parsed exactly what the reply holds.
struct NinePReply {
    var reader: NinePReader
    /// Bytes the device wrote into the separate payload buffer (Rread data, Rreaddir records).
    let payloadCount: Int

    mutating func u16() throws(Errno) -> UInt16 { guard let v = reader.u16() else { throw .EIO }; return v }
    mutating func u32() throws(Errno) -> UInt32 { guard let v = reader.u32() else { throw .EIO }; return v }
    mutating func string() throws(Errno) -> String { guard let v = reader.string() else { throw .EIO }; return v }
    mutating func qid() throws(Errno) -> NinePQid { guard let v = reader.qid() else { throw .EIO }; return v }
    mutating func attributes() throws(Errno) -> NinePAttributes {
        guard let v = reader.attributes() else { throw .EIO }
        return v
    }
    mutating func fileSystemStats() throws(Errno) -> NinePFileSystemStats {
        guard let v = reader.fileSystemStats() else { throw .EIO }
        return v
    }

    /// The reply must end where its parse ended.
    func end() throws(Errno) {
        guard reader.remaining == 0 else { throw .EIO }
    }

    /// For Rread/Rreaddir: count[4] must be all the payload there is and no more than asked.
    mutating func dataCount(requested: Int) throws(Errno) -> Int {
        let count = Int(try u32())
        try end()
        guard count == payloadCount, count <= requested else { throw .EIO }
        return count
    }
}
