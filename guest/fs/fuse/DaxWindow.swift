// The DAX window as the FUSE client manages it: shared memory the daemon maps
// file ranges into (FUSE_SETUPMAPPING), cut into 2 MiB ranges. A read copies
// straight out of the window: no request, no reply buffer.
//
// Each range knows which file range it holds (node id, offset), how many calls
// are copying from it (such a range is never taken away), and when it was last
// used. When no range is free, the least recently used idle ones are unmapped
// together with one FUSE_REMOVEMAPPING and reused. When every range is busy or
// the daemon refuses a mapping, `borrow` returns nil and the caller reads with
// FUSE_READ instead; ENOSYS turns DAX off for the session.
//
// Coherence: the daemon keeps mapped ranges in step with FUSE_WRITE and
// truncation, and refreshes a file's ranges at OPEN. The guest also drops a
// node's ranges when the node is forgotten or unlinked, and when its
// attributes at open (size, mtime, ctime) differ from those it had when mapped.

struct DaxRangeKey: Hashable {
    let nodeID: UInt64
    /// File offset / rangeSize.
    let index: Int
}

/// What identifies a version of a file's contents across opens.
struct DaxFileVersion: Equatable {
    let size: Int
    let modificationTime: FileTime
    let changeTime: FileTime

    init(_ attributes: FileStat) {
        size = attributes.size
        modificationTime = attributes.modificationTime
        changeTime = attributes.changeTime
    }
}

final class DaxWindow {
    static let rangeShift = 21
    static let rangeSize = 1 << rangeShift
    /// Most ranges one REMOVEMAPPING carries (the request must fit FuseSession.requestCapacity).
    static let removalBatchLimit = 128

    private struct Range {
        var key: DaxRangeKey? = nil
        var users = 0
        var lastUse: UInt64 = 0
    }

    private let session: FuseSession
    let memory: UnsafeMutableRawBufferPointer
    /// False once the daemon answered ENOSYS: every read goes through FUSE_READ again.
    private(set) var isActive = true
    private var ranges: [Range]
    private var freeSlots: [Int]
    private var slotForKey: [DaxRangeKey: Int] = [:]
    /// The attributes a node had when its first range was mapped.
    private var mappedVersions: [UInt64: DaxFileVersion] = [:]
    private var useClock: UInt64 = 0
    /// The slot the last borrow found: consecutive small reads of one range skip the hash lookup.
    private var lastSlot = 0

    /// Counters for reports: mappings set up, ranges evicted, mappings refused.
    private(set) var mappingsSetUp = 0
    private(set) var rangesEvicted = 0
    private(set) var mappingsRefused = 0

    var rangeCount: Int { ranges.count }
    var mappedRangeCount: Int { slotForKey.count }

    /// nil when the window holds no whole range.
    init?(session: FuseSession, memory: UnsafeMutableRawBufferPointer) {
        let count = memory.count >> DaxWindow.rangeShift
        guard count > 0, memory.baseAddress != nil else { return nil }
        self.session = session
        self.memory = memory
        ranges = [Range](repeating: Range(), count: count)
        freeSlots = Array((0..<count).reversed())
    }

    var summary: String {
        isActive ? "DAX window \(memory.count >> 20) MiB (\(ranges.count) ranges of 2 MiB)" : "DAX off (daemon refused)"
    }

    // MARK: Reads

    /// The window slot holding range `index` of the file, mapped through `handle` if it was
    /// not yet; the caller copies from `address(of:)` and then calls `giveBack`. nil: read
    /// this range with FUSE_READ (window busy, mapping refused, or DAX off).
    func borrow(nodeID: UInt64, handle: UInt64, index: Int, version: DaxFileVersion) throws(Errno) -> Int? {
        guard isActive else { return nil }
        let key = DaxRangeKey(nodeID: nodeID, index: index)
        useClock &+= 1
        if let slot = ranges[lastSlot].key == key ? lastSlot : slotForKey[key] {
            ranges[slot].users += 1
            ranges[slot].lastUse = useClock
            lastSlot = slot
            return slot
        }
        guard let slot = try takeFreeSlot() else { return nil }
        guard try setUpMapping(slot: slot, handle: handle, nodeID: nodeID, index: index) else {
            freeSlots.append(slot)
            return nil
        }
        if mappedVersions[nodeID] == nil { mappedVersions[nodeID] = version }
        ranges[slot] = Range(key: key, users: 1, lastUse: useClock)
        slotForKey[key] = slot
        lastSlot = slot
        return slot
    }

    func giveBack(_ slot: Int) {
        ranges[slot].users -= 1
    }

    /// Start of the slot's 2 MiB in the window.
    func address(of slot: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(memory.baseAddress! + slot << DaxWindow.rangeShift)
    }

    // MARK: Invalidation

    /// At open: the file's attributes now. If they differ from those its ranges were
    /// mapped with, the ranges are dropped (the file changed behind them).
    func opened(nodeID: UInt64, version: DaxFileVersion) throws(Errno) {
        guard let mapped = mappedVersions[nodeID], mapped != version else { return }
        try drop(nodeID: nodeID)
    }

    /// Unmaps every idle range of `nodeID` (forgotten, unlinked or changed).
    func drop(nodeID: UInt64) throws(Errno) {
        mappedVersions.removeValue(forKey: nodeID)
        var victims: [Int] = []
        for slot in ranges.indices where ranges[slot].key?.nodeID == nodeID && ranges[slot].users == 0 {
            victims.append(slot)
        }
        try remove(victims)
    }

    /// Unmaps every idle range (drop_caches).
    func dropAll() throws(Errno) {
        mappedVersions.removeAll()
        var victims: [Int] = []
        for slot in ranges.indices where ranges[slot].key != nil && ranges[slot].users == 0 { victims.append(slot) }
        try remove(victims)
    }

    // MARK: Slots

    /// A free slot, evicting the least recently used idle ranges if there is none;
    /// nil when every range is in use by a call.
    private func takeFreeSlot() throws(Errno) -> Int? {
        if let slot = freeSlots.popLast() { return slot }
        var idle: [(slot: Int, lastUse: UInt64)] = []
        for slot in ranges.indices where ranges[slot].key != nil && ranges[slot].users == 0 {
            idle.append((slot, ranges[slot].lastUse))
        }
        guard !idle.isEmpty else { return nil }
        // An eighth of the window per round trip (Linux reclaims in batches too).
        idle.sort { $0.lastUse < $1.lastUse }
        let batch = min(idle.count, max(1, min(ranges.count / 8, DaxWindow.removalBatchLimit)))
        var victims: [Int] = []
        for position in 0..<batch { victims.append(idle[position].slot) }
        try remove(victims)
        rangesEvicted += victims.count
        return freeSlots.popLast()
    }

    /// Forgets the ranges in `slots` and sends FUSE_REMOVEMAPPING for them (in batches).
    /// The slots are free afterwards even if the daemon objects: a later SETUPMAPPING of
    /// the slot replaces whatever the daemon still has there, or is refused (FUSE_READ then).
    private func remove(_ slots: [Int]) throws(Errno) {
        guard !slots.isEmpty else { return }
        for slot in slots {
            if let key = ranges[slot].key { slotForKey.removeValue(forKey: key) }
            ranges[slot] = Range()
            freeSlots.append(slot)
        }
        guard isActive else { return }
        var start = 0
        while start < slots.count {
            let count = min(slots.count - start, DaxWindow.removalBatchLimit)
            var arguments = FuseRemoveMappingIn()
            arguments.count = UInt32(count)
            var writer = try session.begin(.removeMapping, nodeID: FuseProtocol.rootNodeID)
            writer.write(arguments)
            for slot in slots[start..<start + count] {
                var one = FuseRemoveMappingOne()
                one.moffset = UInt64(slot << DaxWindow.rangeShift)
                one.len = UInt64(DaxWindow.rangeSize)
                writer.write(one)
            }
            do {
                _ = try session.complete(writer)
            } catch {
                if error == .ENOSYS { isActive = false; return }
                if error == .EIO && session.device.isBroken { throw error }
            }
            start += count
        }
    }

    /// FUSE_SETUPMAPPING of range `index` of the file into `slot`, read-only. False if refused.
    private func setUpMapping(slot: Int, handle: UInt64, nodeID: UInt64, index: Int) throws(Errno) -> Bool {
        var arguments = FuseSetupMappingIn()
        arguments.fh = handle
        arguments.foffset = UInt64(index) << UInt64(DaxWindow.rangeShift)
        arguments.len = UInt64(DaxWindow.rangeSize)
        arguments.flags = FuseFlag.mappingRead
        arguments.moffset = UInt64(slot << DaxWindow.rangeShift)
        var writer = try session.begin(.setupMapping, nodeID: nodeID)
        writer.write(arguments)
        do {
            _ = try session.complete(writer)
        } catch {
            mappingsRefused += 1
            if error == .ENOSYS { isActive = false }
            if error == .EIO && session.device.isBroken { throw error }
            return false
        }
        mappingsSetUp += 1
        return true
    }
}
