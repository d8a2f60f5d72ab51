// One FUSE connection over a virtio-fs device: INIT, request framing, reply
// checking, and the preallocated buffers every request reuses. Requests are
// synchronous (the device API polls), so one request buffer and one reply
// buffer suffice and no call allocates; only RELEASE/RELEASEDIR go out in the
// background, each from its own small slot.

final class FuseSession {
    let device: VirtioFSDevice

    // Negotiated at INIT.
    private(set) var minorVersion: UInt32 = 0
    private(set) var maxWrite = 4096
    private(set) var maxRead = 32 * 4096
    private(set) var maxReadahead = 0
    private(set) var grantedFlags = FuseInitFlags()
    /// log2 of the DAX mapping alignment, if the server granted FUSE_MAP_ALIGNMENT.
    private(set) var mapAlignment: Int? = nil
    var usesReaddirPlus: Bool { grantedFlags.contains(.doReaddirplus) }
    var hasAtomicTruncate: Bool { grantedFlags.contains(.atomicOTrunc) }

    /// in header + the largest argument record + two names with their NULs.
    static let requestCapacity = 4096
    /// out header + the largest fixed reply (entry_out + open_out).
    static let replyCapacity = 4096
    static let headerSize = FuseInHeader.wireSize

    private let request: UnsafeMutableRawBufferPointer
    private let reply: UnsafeMutableRawBufferPointer
    private let forgetBuffer: UnsafeMutableRawBufferPointer
    /// RELEASE and RELEASEDIR go out in the background (`send(inBackground:)`), as Linux sends
    /// them: close() does not wait, and their errors reach no one. Each one in flight owns a
    /// slot here (request, then room for the out header) until the device gives it back.
    static let backgroundSlots = 16
    static let backgroundSlotSize = 128
    private let backgroundBuffers: UnsafeMutableRawBufferPointer
    private var nextBackgroundSlot = 0
    private var exchange = DeviceExchange()
    private var nextUnique: UInt64 = 1
    /// Requests sent per opcode and time spent waiting for the device, for benchmark reports.
    private(set) var requestCounts = [UInt64](repeating: 0, count: 64)
    private(set) var deviceNanoseconds: UInt64 = 0
    private var currentOpcode: UInt32 = 0
    private var currentNodeID: UInt64 = 0

    /// Called before any request that is not a data transfer of the stream being staged
    /// (FuseDataStaging flushes pending writes here).
    var beforeRequest: ((_ opcode: FuseOpcode) throws(Errno) -> Void)? = nil

    init(device: VirtioFSDevice) throws(Errno) {
        self.device = device
        request = .allocate(byteCount: FuseSession.requestCapacity, alignment: 64)
        reply = .allocate(byteCount: FuseSession.replyCapacity, alignment: 64)
        forgetBuffer = .allocate(byteCount: FuseSession.headerSize + FuseBatchForgetIn.wireSize
                                   + FuseSession.forgetBatchSize * FuseForgetOne.wireSize, alignment: 64)
        backgroundBuffers = .allocate(byteCount: FuseSession.backgroundSlots * 2 * FuseSession.backgroundSlotSize, alignment: 64)
        try initialize()
    }

    deinit {
        device.drain()   // nothing in flight may still point at backgroundBuffers
        backgroundBuffers.deallocate()
        request.deallocate()
        reply.deallocate()
        forgetBuffer.deallocate()
    }

    // MARK: Framing

    /// Starts a request; the caller appends argument records and names to the writer.
    func begin(_ opcode: FuseOpcode, nodeID: UInt64) throws(Errno) -> ByteWriter {
        if let hook = beforeRequest { try hook(opcode) }
        currentOpcode = opcode.rawValue
        currentNodeID = nodeID
        var writer = ByteWriter(request)
        writer.writeZeros(FuseSession.headerSize)
        return writer
    }

    /// Sends the request in `writer` (plus `payload`, e.g. WRITE data) and checks the reply.
    /// With `replyPayload` (READ, READDIR) the device writes the out header into the reply
    /// buffer and everything after it straight into `replyPayload`.
    func complete(_ writer: ByteWriter, payload: UnsafeRawBufferPointer? = nil,
                  replyPayload: UnsafeMutableRawBufferPointer? = nil) throws(Errno) -> FuseReply {
        let payloadCount = payload?.count ?? 0
        let unique = patchHeader(writer, payloadCount: payloadCount)

        // The descriptor lists are reused too: no allocation per request.
        let fixedCapacity = replyPayload == nil ? FuseSession.replyCapacity : FuseOutHeader.wireSize
        exchange.set(request: request, count: writer.offset, payload: payload,
                     reply: reply, fixedReplyCount: fixedCapacity, replyPayload: replyPayload)
        let start = monotonicNanoseconds()
        let result = device.call(readable: exchange.readable, writable: exchange.writable)
        deviceNanoseconds &+= monotonicNanoseconds() &- start
        if Int(currentOpcode) < requestCounts.count { requestCounts[Int(currentOpcode)] += 1 }
        guard let written = result else { throw .EIO }

        // Every length from the device is checked before use.
        guard written >= FuseOutHeader.wireSize,
              written <= fixedCapacity + (replyPayload?.count ?? 0) else { throw .EIO }
        let out = reply.loadUnaligned(as: FuseOutHeader.self)
        guard out.unique == unique, Int(out.len) == written else { throw .EIO }
        if out.error != 0 { throw errnoFromFuse(out.error) }
        let fixedEnd = min(written, fixedCapacity)
        let fixed = UnsafeRawBufferPointer(rebasing: reply[FuseOutHeader.wireSize..<fixedEnd])
        return FuseReply(reader: ByteReader(fixed), payloadCount: written - fixedEnd)
    }

    /// Fills in the request's fuse_in_header; returns its unique.
    private func patchHeader(_ writer: ByteWriter, payloadCount: Int) -> UInt64 {
        let unique = nextUnique
        nextUnique &+= 1
        var header = FuseInHeader()
        header.len = UInt32(writer.offset + payloadCount)
        header.opcode = currentOpcode
        header.unique = unique
        header.nodeID = currentNodeID
        writer.patch(header, at: 0)
        return unique
    }

    /// Sends the request in `writer` without waiting for its reply (RELEASE, RELEASEDIR: a
    /// reply carries nothing and an error could not be reported). Later requests may run
    /// before it; `drainBackground` waits for all of them.
    func send(inBackground writer: ByteWriter) throws(Errno) {
        let slotSize = FuseSession.backgroundSlotSize
        guard writer.offset <= slotSize else {
            _ = try complete(writer)
            return
        }
        // Slots are reused in turn: at the start of each round, wait for the previous round.
        if nextBackgroundSlot == 0 { device.drain() }
        let slot = backgroundBuffers.baseAddress! + nextBackgroundSlot * 2 * slotSize
        nextBackgroundSlot = (nextBackgroundSlot + 1) % FuseSession.backgroundSlots
        _ = patchHeader(writer, payloadCount: 0)
        slot.copyMemory(from: request.baseAddress!, byteCount: writer.offset)
        exchange.set(request: UnsafeMutableRawBufferPointer(start: slot, count: writer.offset), count: writer.offset,
                     payload: nil, reply: UnsafeMutableRawBufferPointer(start: slot + slotSize, count: FuseOutHeader.wireSize),
                     fixedReplyCount: FuseOutHeader.wireSize, replyPayload: nil)
        if Int(currentOpcode) < requestCounts.count { requestCounts[Int(currentOpcode)] += 1 }
        guard device.post(readable: exchange.readable, writable: exchange.writable) else { throw .EIO }
    }

    /// Waits for every request sent in the background.
    func drainBackground() {
        if device.postedCount > 0 { device.drain() }
    }

    /// Appends a NUL-terminated name; ENAMETOOLONG if it does not fit.
    static func writeName(_ name: String, into writer: inout ByteWriter) throws(Errno) {
        var contiguous = name
        let fits = contiguous.withUTF8 { bytes in
            writer.writeBytes(UnsafeRawBufferPointer(bytes)) && writer.writeZeros(1)
        }
        if !fits { throw .ENAMETOOLONG }
    }

    // MARK: FORGET

    /// Forgets queue up and go out at a housekeeping point (the start of a path call, see
    /// Posix) once a batch is full, or at sync, as BATCH_FORGETs of up to 64: a node a running call still uses must stay
    /// valid on the server until the call is over, and one round trip replaces many.
    static let forgetBatchSize = 64
    private var pendingForgets: [FuseForgetOne] = []
    var pendingForgetCount: Int { pendingForgets.count }

    /// Queues giving back `count` lookups of `nodeID`.
    func forget(nodeID: UInt64, count: UInt64) {
        guard count > 0, nodeID != FuseProtocol.rootNodeID else { return }
        var one = FuseForgetOne()
        one.nodeID = nodeID
        one.nlookup = count
        pendingForgets.append(one)
    }

    /// Sends the queued forgets (high-priority queue, no reply).
    func flushForgets() {
        // A FORGET (high-priority queue) must not overtake a RELEASE of the same node.
        if !pendingForgets.isEmpty { drainBackground() }
        var sent = 0
        while sent < pendingForgets.count {
            // BATCH_FORGET exists since 7.16; older servers get each FORGET on its own.
            let count = minorVersion < 16 ? 1 : min(FuseSession.forgetBatchSize, pendingForgets.count - sent)
            var header = FuseInHeader()
            header.unique = nextUnique
            nextUnique &+= 1
            var writer = ByteWriter(forgetBuffer)
            if minorVersion < 16 {
                header.len = UInt32(FuseSession.headerSize + FuseForgetIn.wireSize)
                header.opcode = FuseOpcode.forget.rawValue
                header.nodeID = pendingForgets[sent].nodeID
                var body = FuseForgetIn()
                body.nlookup = pendingForgets[sent].nlookup
                writer.write(header)
                writer.write(body)
            } else {
                header.len = UInt32(FuseSession.headerSize + FuseBatchForgetIn.wireSize + count * FuseForgetOne.wireSize)
                header.opcode = FuseOpcode.batchForget.rawValue
                var batch = FuseBatchForgetIn()
                batch.count = UInt32(count)
                writer.write(header)
                writer.write(batch)
                for index in sent..<sent + count { writer.write(pendingForgets[index]) }
            }
            requestCounts[Int(header.opcode)] += 1
            device.callHighPriority(readable: [DeviceBuffer(base: forgetBuffer.baseAddress!, count: writer.offset)])
            sent += count
        }
        pendingForgets.removeAll(keepingCapacity: true)
    }

    // MARK: INIT

    private func initialize() throws(Errno) {
        var arguments = FuseInitIn()
        arguments.major = FuseProtocol.kernelMajor
        arguments.minor = FuseProtocol.kernelMinor
        arguments.maxReadahead = 128 * 1024
        let wanted: FuseInitFlags = [.asyncRead, .atomicOTrunc, .bigWrites, .doReaddirplus, .maxPages,
                                     .mapAlignment, .initExt]
        arguments.flags = UInt32(truncatingIfNeeded: wanted.rawValue)
        arguments.flags2 = UInt32(truncatingIfNeeded: wanted.rawValue >> 32)
        var writer = try begin(.`init`, nodeID: 0)
        writer.write(arguments)
        var response = try complete(writer)

        // Servers older than 7.23 send a shorter fuse_init_out: read what is there, zero the rest.
        let available = response.reader.remaining
        guard available >= FuseCompatSize.initOut else { throw .EIO }
        var out = FuseInitOut()
        withUnsafeMutableBytes(of: &out) { destination in
            let bytes = response.reader.readBytes(min(available, destination.count))!
            destination.copyMemory(from: bytes)
        }
        guard out.major == FuseProtocol.kernelMajor else { throw .EPROTO }
        minorVersion = out.minor
        var flags = UInt64(out.flags)
        if out.minor >= 36 && flags & FuseInitFlags.initExt.rawValue != 0 {
            flags |= UInt64(out.flags2) << 32
        }
        grantedFlags = FuseInitFlags(rawValue: flags & wanted.rawValue)
        if out.minor >= 5 && out.maxWrite >= 4096 { maxWrite = min(Int(out.maxWrite), 1 << 20) }
        maxReadahead = Int(out.maxReadahead)
        if grantedFlags.contains(.maxPages) && out.maxPages > 0 {
            maxRead = min(Int(out.maxPages) * 4096, 1 << 20)
        }
        // Only 7.31+ replies carry map_alignment; it is meaningful when the flag was granted.
        if out.minor >= 31 && grantedFlags.contains(.mapAlignment) {
            mapAlignment = Int(out.mapAlignment)
        }
    }

    /// Requests of one opcode sent since the last reset (e.g. FUSE_READ: DAX re-reads send none).
    func requestCount(_ opcode: FuseOpcode) -> UInt64 {
        Int(opcode.rawValue) < requestCounts.count ? requestCounts[Int(opcode.rawValue)] : 0
    }

    func resetStatistics() {
        for index in requestCounts.indices { requestCounts[index] = 0 }
        deviceNanoseconds = 0
        device.resetRoundTrips()
    }

    /// "LOOKUP=12 OPEN=30 ..." for the opcodes used since the last reset.
    var statisticsSummary: String {
        var text = ""
        var total: UInt64 = 0
        for (code, count) in requestCounts.enumerated() where count > 0 {
            let name = FuseOpcode.name(of: UInt32(code))
            text += "\(name)=\(count) "
            total += count
        }
        let perRequest = total == 0 ? 0 : deviceNanoseconds / total
        return text + "total=\(total) device_ms=\(deviceNanoseconds / 1_000_000) device_ns_per_request=\(perRequest) "
            + device.roundTrips.summary
    }

    var summary: String {
        var text = "FUSE 7.\(minorVersion), max_write \(maxWrite), max_read \(maxRead), max_readahead \(maxReadahead)"
        text += usesReaddirPlus ? ", readdirplus" : ", readdir"
        if let alignment = mapAlignment { text += ", map_alignment 2^\(alignment)" }
        return text
    }
}
