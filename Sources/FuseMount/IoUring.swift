import CShim
import Glibc

/// One io_uring instance with 128-byte SQEs, used by one thread only
/// (SINGLE_ISSUER): get SQEs, submit them and wait for completions in one
/// io_uring_enter, then walk the completions. Owns its descriptor and
/// mappings; `close()` (or deinit) releases them.
final class IoUring {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Completion {
        let userData: UInt64
        let result: Int32
    }

    private var fd: Int32
    private let layout: shim_uring_layout
    private let ringMapping: UnsafeMutableRawPointer
    private let ringMappingSize: Int
    private let sqes: UnsafeMutableRawPointer
    private let sqesSize: Int
    /// SQEs filled since the last submit.
    private var pending: UInt32 = 0
    private var sqTail: UInt32

    static let sqeSize = 128
    private static let cqeSize = 16

    /// `entries` SQEs; completions get twice as many slots (the kernel's default).
    init(entries: UInt32) throws(Failure) {
        var layout = shim_uring_layout()
        let flags = shim_IORING_SETUP_SQE128 | shim_IORING_SETUP_SINGLE_ISSUER | shim_IORING_SETUP_DEFER_TASKRUN
        let fd = shim_io_uring_setup(entries, flags, &layout)
        guard fd >= 0 else { throw Failure(description: "io_uring_setup: \(String(cString: strerror(errno)))") }
        guard layout.features & shim_IORING_FEAT_SINGLE_MMAP != 0 else {
            Glibc.close(fd)
            throw Failure(description: "io_uring without IORING_FEAT_SINGLE_MMAP (kernel older than 5.4)")
        }
        // With SINGLE_MMAP the SQ and CQ rings share one mapping: as large as the larger of the two.
        let sqSize = Int(layout.sq_array) + Int(layout.sq_entries) * 4
        let cqSize = Int(layout.cq_cqes) + Int(layout.cq_entries) * Self.cqeSize
        let ringSize = max(sqSize, cqSize)
        let ring = mmap(nil, ringSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(shim_IORING_OFF_SQ_RING))
        guard let ring, ring != MAP_FAILED else {
            Glibc.close(fd)
            throw Failure(description: "mmap io_uring rings: \(String(cString: strerror(errno)))")
        }
        let sqesSize = Int(layout.sq_entries) * Self.sqeSize
        let sqes = mmap(nil, sqesSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(shim_IORING_OFF_SQES))
        guard let sqes, sqes != MAP_FAILED else {
            munmap(ring, ringSize)
            Glibc.close(fd)
            throw Failure(description: "mmap io_uring SQEs: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.layout = layout
        self.ringMapping = ring
        self.ringMappingSize = ringSize
        self.sqes = sqes
        self.sqesSize = sqesSize
        self.sqTail = (ring + Int(layout.sq_tail)).load(as: UInt32.self)
        // The SQ index array maps slot i to SQE i, once and for all.
        let array = (ring + Int(layout.sq_array)).bindMemory(to: UInt32.self, capacity: Int(layout.sq_entries))
        for index in 0..<Int(layout.sq_entries) { array[index] = UInt32(index) }
    }

    deinit { close() }

    var descriptor: Int32 { fd }
    var submissionEntries: UInt32 { layout.sq_entries }

    /// The next free SQE (zeroed by the prep helpers), or nil if the SQ is full.
    func nextSubmission() -> UnsafeMutableRawPointer? {
        let head = shim_load_acquire_u32(ringMapping + Int(layout.sq_head))
        guard sqTail &- head < layout.sq_entries else { return nil }
        let mask = (ringMapping + Int(layout.sq_ring_mask)).load(as: UInt32.self)
        let sqe = sqes + Int(sqTail & mask) * Self.sqeSize
        sqTail &+= 1
        pending += 1
        return sqe
    }

    /// Publishes the filled SQEs, submits them, and waits until at least
    /// `waitFor` completions are there. Returns 0 or an errno (EINTR is retried).
    func submit(waitFor: UInt32) -> Int32 {
        shim_store_release_u32(ringMapping + Int(layout.sq_tail), sqTail)
        while true {
            let toSubmit = pending
            let flags = waitFor > 0 ? shim_IORING_ENTER_GETEVENTS : 0
            let result = shim_io_uring_enter(fd, toSubmit, waitFor, flags)
            if result >= 0 {
                pending -= min(pending, UInt32(result))
                if pending == 0 || waitFor == 0 { return 0 }
                continue
            }
            let error = errno
            if error == EINTR { continue }
            return error
        }
    }

    /// Calls `body` for each completion there is now, then releases them.
    func drainCompletions(_ body: (Completion) -> Void) {
        let headPointer = ringMapping + Int(layout.cq_head)
        var head = headPointer.load(as: UInt32.self)
        let tail = shim_load_acquire_u32(ringMapping + Int(layout.cq_tail))
        let mask = (ringMapping + Int(layout.cq_ring_mask)).load(as: UInt32.self)
        while head != tail {
            let cqe = ringMapping + Int(layout.cq_cqes) + Int(head & mask) * Self.cqeSize
            body(Completion(userData: cqe.load(as: UInt64.self), result: cqe.load(fromByteOffset: 8, as: Int32.self)))
            head &+= 1
        }
        shim_store_release_u32(headPointer, head)
    }

    /// Unmaps the rings and closes the descriptor; the kernel cancels what is still queued.
    func close() {
        guard fd >= 0 else { return }
        munmap(sqes, sqesSize)
        munmap(ringMapping, ringMappingSize)
        Glibc.close(fd)
        fd = -1
    }
}
