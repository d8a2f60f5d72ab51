import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization

/// What a file looked like when its bytes were copied into the window: a
/// later difference means the host changed it (close-to-open, as --cache auto).
struct FileIdentity: Equatable {
    var size: Int64
    var mtime: timespec
    var ctime: timespec
    /// When the daemon looked (nanoseconds, realtime clock).
    var observedAt: Int64

    /// File times come from a coarse clock (one tick, up to 10 ms): a change
    /// in the same tick as our look leaves them as they were. As racy-git
    /// does, a file changed that close to our look counts as maybe changed.
    static let clockTick: Int64 = 10_000_000

    var isRacy: Bool { Self.nanoseconds(ctime) + Self.clockTick >= observedAt }

    static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec) }

    /// Size and times only: when we looked does not make a file different.
    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.size == b.size && nanoseconds(a.mtime) == nanoseconds(b.mtime) && nanoseconds(a.ctime) == nanoseconds(b.ctime)
    }

    static func of(_ fd: Int32) throws(Errno) -> FileIdentity {
        var st = stat()
        _ = try systemCall { fstat(fd, &st) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return FileIdentity(size: Int64(st.st_size), mtime: st.st_mtim, ctime: st.st_ctim, observedAt: nanoseconds(now))
    }
}

/// The DAX window's mappings, one record per 2 MiB slot, and the work that
/// keeps a copying window coherent with the files: fill, write-back,
/// refresh on re-open and after the guest's own FUSE_WRITE/SETATTR.
///
/// One lock over the table and the window I/O it does: a mapping's bytes
/// and its record change together, so no thread sees one without the other.
/// FUSE_READ/WRITE of files without mappings do not take it (`mappedNodes`).
final class DaxMappingTable: Sendable {
    /// One mapped slot: the file behind it, through a descriptor of its own
    /// (the guest may release its handle and keep the mapping).
    struct Slot {
        let node: NodeID
        let file: OpenFile
        let fileOffset: UInt64
        let writable: Bool
        var identity: FileIdentity?
    }

    private struct State {
        var slots: [UInt64: Slot] = [:]
        var slotsByNode: [NodeID: Set<UInt64>] = [:]
        /// Counts every slot in `slots` by its node.
        let mappedNodes: MappedNodeFilter

        mutating func insert(_ slot: Slot, at index: UInt64) {
            drop(index)
            slots[index] = slot
            slotsByNode[slot.node, default: []].insert(index)
            mappedNodes.add(slot.node)
        }

        @discardableResult
        mutating func drop(_ index: UInt64) -> Slot? {
            guard let old = slots.removeValue(forKey: index) else { return nil }
            slotsByNode[old.node]?.remove(index)
            if slotsByNode[old.node]?.isEmpty == true { slotsByNode[old.node] = nil }
            mappedNodes.remove(old.node)
            return old
        }

        mutating func dropAll() {
            for index in Array(slots.keys) { drop(index) }
        }
    }

    let mappers: DaxMapperSlot
    /// Nodes that may have mappings, for a look without the lock.
    let mappedNodes: MappedNodeFilter
    private let state: Mutex<State>

    init(mappers: DaxMapperSlot) {
        self.mappers = mappers
        let mappedNodes = MappedNodeFilter()
        self.mappedNodes = mappedNodes
        self.state = Mutex(State(mappedNodes: mappedNodes))
    }

    static let slotSize = DaxGeometry.alignment

    private static func range(ofSlot index: UInt64, _ slot: Slot) -> DaxRange {
        DaxRange(windowOffset: index * slotSize, fileOffset: slot.fileOffset, length: slotSize)
    }

    /// Window ranges a request may name: non-empty, 2 MiB aligned, inside the window.
    static func checkWindowRange(offset: UInt64, length: UInt64, windowSize: UInt64) throws(Errno) {
        guard length > 0, offset % slotSize == 0, length % slotSize == 0 else { throw Errno.EINVAL }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= windowSize else { throw Errno.EINVAL }
    }

    // MARK: Mapping and unmapping

    /// Maps `range` of `file` (already checked), slot by slot, replacing
    /// whatever the slots held: a replaced write mapping is written back and
    /// unmapped first (SHMEM_MAP may not map over a mapping). A slot the
    /// mapper fails on, and the new slots before it, end up unmapped.
    func map(_ range: DaxRange, file: OpenFile, writable: Bool, mapper: any DaxMapper) throws(Errno) {
        let identity = mapper.holdsCopies ? try FileIdentity.of(file.fd) : nil
        let first = range.windowOffset / Self.slotSize, count = range.length / Self.slotSize
        // Counted before the fill: a WRITE racing with it then refreshes the new slots (fileChanged).
        mappedNodes.add(file.node, slots: Int(count))
        defer { mappedNodes.remove(file.node, slots: Int(count)) }
        try state.withLock { (state) throws(Errno) in
            for index in first..<first + count {
                guard let old = state.slots[index], old.writable else { continue }
                try writeBack(index, old, mapper) // on failure the old mappings stay, still dirty
            }
            for i in 0..<count {
                let index = first + i
                let slot = Slot(node: file.node, file: file, fileOffset: range.fileOffset + i * Self.slotSize,
                                writable: writable, identity: identity)
                do throws(Errno) {
                    if let old = state.drop(index) { try mapper.unmap(Self.range(ofSlot: index, old)) }
                    try mapper.map(Self.range(ofSlot: index, slot), file: file.fd, writable: writable)
                } catch {
                    for mapped in first..<index {
                        if let new = state.drop(mapped) { try? mapper.unmap(Self.range(ofSlot: mapped, new)) }
                    }
                    throw error
                }
                state.insert(slot, at: index)
            }
        }
    }

    /// REMOVEMAPPING: every range must be mapped in full, or nothing is removed.
    /// Write mappings are written back; the first write-back error is reported
    /// after every range is removed.
    func unmap(_ ranges: [(offset: UInt64, length: UInt64)], mapper: any DaxMapper) throws(Errno) {
        try state.withLock { (state) throws(Errno) in
            for (offset, length) in ranges {
                for index in offset / Self.slotSize..<(offset + length) / Self.slotSize where state.slots[index] == nil {
                    throw Errno.EINVAL
                }
            }
            var firstError: Errno?
            for (offset, length) in ranges {
                for index in offset / Self.slotSize..<(offset + length) / Self.slotSize {
                    guard let old = state.drop(index) else { continue } // named twice in the batch
                    do throws(Errno) {
                        if old.writable { try writeBack(index, old, mapper) }
                        try mapper.unmap(Self.range(ofSlot: index, old))
                    } catch { firstError = firstError ?? error }
                }
            }
            if let firstError { throw firstError }
        }
    }

    /// DESTROY or a new session: write back what the guest wrote, unmap and forget every mapping.
    func removeAll() { clear(unmapping: true) }

    /// The device was reset or its front end hung up: write back what the
    /// guest wrote and forget every mapping. Nothing is unmapped: the front
    /// end dropped the mappings with the device (SHMEM), and a new driver
    /// starts with an empty window.
    func forgetAll() { clear(unmapping: false) }

    private func clear(unmapping: Bool) {
        guard let mapper = mappers.mapper else { return }
        state.withLock { state in
            for (index, slot) in state.slots {
                if slot.writable { try? writeBack(index, slot, mapper) }
                if unmapping { try? mapper.unmap(Self.range(ofSlot: index, slot)) }
            }
            if !unmapping { mapper.forgetAll() }
            state.dropAll()
        }
    }

    private func writeBack(_ index: UInt64, _ slot: Slot, _ mapper: any DaxMapper) throws(Errno) {
        let size = try FileIdentity.of(slot.file.fd).size
        try mapper.writeBack(Self.range(ofSlot: index, slot), file: slot.file.fd, fileSize: UInt64(max(0, size)))
    }

    // MARK: Coherence of a copying window

    /// FLUSH, FSYNC, RELEASE: the guest's stores in write mappings of `node` reach the file.
    func writeBack(node: NodeID) throws(Errno) {
        guard let mapper = mappers.mapper, mapper.holdsCopies else { return }
        try state.withLock { (state) throws(Errno) in
            guard let indices = state.slotsByNode[node], indices.contains(where: { state.slots[$0]?.writable == true }) else { return }
            let before = try? Self.identity(of: node, state)
            var firstError: Errno?
            for index in indices {
                guard let slot = state.slots[index], slot.writable else { continue }
                do throws(Errno) { try writeBack(index, slot, mapper) } catch { firstError = firstError ?? error }
            }
            Self.recordOwnChange(of: node, before: before, &state)
            if let firstError { throw firstError }
        }
    }

    /// OPEN: slots filled before the host changed the file are filled again
    /// (also read mappings filled within a clock tick of the file's last
    /// change). One fstat when nothing changed.
    func revalidate(node: NodeID) throws(Errno) {
        guard let mapper = mappers.mapper, mapper.holdsCopies else { return }
        try state.withLock { (state) throws(Errno) in
            guard let indices = state.slotsByNode[node], let any = indices.first, let sample = state.slots[any] else { return }
            let current = try FileIdentity.of(sample.file.fd)
            for index in indices {
                // A write mapping may hold the guest's unwritten stores: refilled only on a real change.
                guard var slot = state.slots[index],
                      slot.identity != current || (!slot.writable && slot.identity?.isRacy == true) else { continue }
                do throws(Errno) {
                    try mapper.map(Self.range(ofSlot: index, slot), file: slot.file.fd, writable: slot.writable)
                } catch {
                    state.drop(index)
                    throw error
                }
                slot.identity = current
                state.slots[index] = slot
            }
        }
    }

    /// The file as it is before the guest changes it through the daemon, when
    /// it may have mappings (nil otherwise: nothing to keep coherent). With
    /// `file`, a descriptor of the node's file (the WRITE's handle), the table's
    /// lock is not taken: the node's mappings show the same file.
    func identityBeforeChange(node: NodeID, file: OpenFile? = nil) -> FileIdentity? {
        guard let mapper = mappers.mapper, mapper.holdsCopies, mappedNodes.mayBeMapped(node) else { return nil }
        if let file { return try? FileIdentity.of(file.fd) }
        return state.withLock { state in try? Self.identity(of: node, state) }
    }

    /// The guest changed file bytes [offset, offset + length) through the
    /// daemon (WRITE, FALLOCATE, COPY_FILE_RANGE, a truncation from `offset`
    /// on): the overlapping window bytes are read again, the rest of each
    /// slot (maybe the guest's unwritten stores) stays.
    func fileChanged(node: NodeID, offset: UInt64, length: UInt64, before: FileIdentity?) {
        guard let mapper = mappers.mapper, mapper.holdsCopies, mappedNodes.mayBeMapped(node) else { return }
        state.withLock { state in
            guard let indices = state.slotsByNode[node] else { return }
            let end = offset.addingReportingOverflow(length).overflow ? UInt64.max : offset + length
            for index in indices {
                guard let slot = state.slots[index] else { continue }
                let slotEnd = slot.fileOffset + Self.slotSize
                let from = max(offset, slot.fileOffset), to = min(end, slotEnd)
                guard from < to else { continue }
                let part = DaxRange(windowOffset: index * Self.slotSize + (from - slot.fileOffset), fileOffset: from,
                                    length: to - from)
                if (try? mapper.map(part, file: slot.file.fd, writable: slot.writable)) == nil { state.drop(index) }
            }
            Self.recordOwnChange(of: node, before: before, &state)
        }
    }

    private static func identity(of node: NodeID, _ state: State) throws(Errno) -> FileIdentity? {
        guard let indices = state.slotsByNode[node], let any = indices.first, let sample = state.slots[any] else { return nil }
        return try FileIdentity.of(sample.file.fd)
    }

    /// After a change the daemon made itself, the file's new identity is the
    /// normal one for slots that were current `before` it. Slots already
    /// behind a host change keep their old identity: the next OPEN refills them.
    private static func recordOwnChange(of node: NodeID, before: FileIdentity?, _ state: inout State) {
        guard let before, let current = try? identity(of: node, state), let indices = state.slotsByNode[node] else { return }
        for index in indices where state.slots[index]?.identity == before && state.slots[index]?.identity?.isRacy == false {
            state.slots[index]?.identity = current
        }
    }

    /// Mapped slots (for tests and diagnostics).
    var count: Int { state.withLock { $0.slots.count } }
}
