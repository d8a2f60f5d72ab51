import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// Identity of a host file: the same (st_dev, st_ino) is the same node.
struct InodeKey: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }

    // Looked up on every LOOKUP and new inode: the two words folded into one and
    // hashed through UInt64's single-word SipHash (seeded, as the host picks the
    // numbers), instead of a streaming Hasher's setup, two rounds and finalization.
    // Equality still compares both words.
    private var folded: UInt64 { inode ^ (device &* 0x9E37_79B9_7F4A_7C15) }
    func hash(into hasher: inout Hasher) { hasher.combine(folded) }
    func _rawHashValue(seed: Int) -> Int { folded._rawHashValue(seed: seed) }
}

/// A host file the guest knows. Operations reach it through an O_PATH
/// descriptor (no read/write access, opened without following symlinks)
/// that they borrow with `withDescriptor` for the duration of one call.
///
/// Where the filesystem and our capabilities allow, an inode holds no
/// descriptor of its own: it is named by its kernel file handle, and its
/// descriptor lives in a bounded cache that reopens it on demand, so the guest
/// may hold far more inodes than the daemon may open descriptors. Otherwise
/// (no CAP_DAC_READ_SEARCH, a filesystem without handles, `--inode-file-handles
/// never`) it keeps its descriptor open for its lifetime, as virtiofsd does.
final class Inode: Sendable {
    let node: NodeID
    let key: InodeKey
    /// st_mode & S_IFMT when looked up (a file's type never changes).
    let fileType: UInt32
    // Plain fields, not an enum: binding an enum's payload on every use copied
    // its references (a retain and a release each per descriptor borrowed, ~5 % of
    // the daemon's instructions per request; docs/benchmarks.md), reading a `let` does not.
    /// Kept open until the inode goes (no file handles): set, or else the other two.
    private let pinned: PathDescriptor?
    /// Where the descriptor is cached, with the handle it is reopened from
    /// (taken when the cache first closes it).
    private let slot: DescriptorSlot?
    private let resolver: HandleResolver?
    /// A readable descriptor (regular files and directories) kept in `readableCache`
    /// for the calls O_PATH refuses (f*xattr): reopening one through /proc costs
    /// several times the call itself, and `ls -l` asks two xattrs of every file.
    /// Made on first use: most inodes never see an xattr call, and an empty slot
    /// cost every new inode an allocation and every forgotten one a discard.
    /// (A Mutex, not AtomicLazyReference: its load ran unspecialized, ~570 instructions.)
    private let readableSlot = Mutex<DescriptorSlot?>(nil)
    private let readableCache: DescriptorCache?
    /// Of a directory: whether the next lookup in it stats the name before
    /// opening it (PassthroughFileSystem.lookupEntry keeps it up to date).
    private let statFirst = Atomic<Bool>(true)

    /// An inode that keeps `descriptor` open for its lifetime.
    init(node: NodeID, pinned descriptor: PathDescriptor, key: InodeKey, fileType: UInt32,
         readableCache: DescriptorCache? = nil) {
        self.node = node; self.key = key; self.fileType = fileType
        self.readableCache = readableCache
        (pinned, slot, resolver) = (descriptor, nil, nil)
    }

    /// An inode named by file handle: its descriptor lives in `slot` of `resolver`'s cache.
    init(node: NodeID, slot: DescriptorSlot, resolver: HandleResolver, key: InodeKey, fileType: UInt32,
         readableCache: DescriptorCache? = nil) {
        self.node = node; self.key = key; self.fileType = fileType
        self.readableCache = readableCache
        (pinned, self.slot, self.resolver) = (nil, slot, resolver)
    }

    deinit {
        if let slot = readableSlot.withLock({ $0 }) { readableCache?.discard(slot) }
        if let slot, let resolver { resolver.cache.discard(slot) }
    }

    /// Runs `body` with a readable descriptor of this file: the cached one, or
    /// one `reopen` returns (kept in the cache if there is one, else closed after).
    func withReadableDescriptor<R>(reopen: () throws(Errno) -> OwnedDescriptor,
                                   _ body: (Int32) throws(Errno) -> R) throws(Errno) -> R {
        guard let readableCache else {
            let fd = try reopen()
            return try body(fd.rawValue)
        }
        let slot = readableSlot.withLock { slot in
            if let slot { return slot }
            let made = DescriptorSlot()
            slot = made
            return made
        }
        let descriptor = try readableCache.borrow(slot, open: reopen)
        return try withExtendedLifetime(descriptor) { () throws(Errno) -> R in try body(descriptor.fd) }
    }

    /// Runs `body` with an O_PATH descriptor of this file, valid until it returns.
    @inline(__always)
    func withDescriptor<R>(_ body: (Int32) throws(Errno) -> R) throws(Errno) -> R {
        if let pinned { return try body(pinned.fd) }
        // Not pinned: init set both.
        let descriptor = try resolver!.cache.borrow(slot!) { () throws(Errno) in
            // The cache takes the handle before it closes the descriptor, so there is one.
            guard let handle = slot!.handle else { throw Errno(ESTALE) }
            return try resolver!.open(handle, expecting: key)
        }
        return try withExtendedLifetime(descriptor) { () throws(Errno) -> R in try body(descriptor.fd) }
    }

    /// Whether the file is gone: its handle no longer opens (a kept descriptor never goes stale).
    var isStale: Bool {
        guard pinned == nil else { return false }
        do throws(Errno) {
            try withDescriptor { _ in }
            return false
        } catch {
            return error == Errno(ESTALE)
        }
    }

    /// Whether this inode has a file handle to be reopened from (for tests and
    /// diagnostics): once its descriptor was first evicted, or at once with
    /// mandatory handles.
    var usesFileHandle: Bool {
        slot?.handle != nil
    }

    var lookupsStatFirst: Bool {
        get { statFirst.load(ordering: .relaxed) }
        set { statFirst.store(newValue, ordering: .relaxed) }
    }

    var isDirectory: Bool { fileType == LinuxFileMode.directory }
    var isRegularFile: Bool { fileType == LinuxFileMode.regular }
    var isSymlink: Bool { fileType == LinuxFileMode.symlink }
}

/// The node table: node id → inode with the number of lookups the kernel
/// holds, and (dev, ino) → node id so a file has one node however it is
/// reached. One mutex, held only for dictionary work, never around syscalls.
final class InodeStore: Sendable {
    private struct Record {
        let inode: Inode
        var lookups: UInt64
    }
    private struct Tables {
        // Made with room at start-up: a table's first storage instantiates its
        // generic metadata at run time (~240,000 instructions each, which the first
        // requests of a session paid).
        var byNode = [NodeID: Record](minimumCapacity: 64)
        var byKey = [InodeKey: NodeID](minimumCapacity: 64)
        var nextNode: UInt64 = NodeID.root.rawValue + 1

        /// Counts one lookup of `node` in place; nil if the node is not in the table.
        mutating func countLookup(of node: NodeID) -> Inode? {
            guard let index = byNode.index(forKey: node) else { return nil }
            byNode.values[index].lookups += 1
            return byNode.values[index].inode
        }
    }

    /// How new inodes are identified: by file handle (with the resolver) or by a kept descriptor.
    struct HandlePolicy: Sendable {
        /// nil: every inode keeps its descriptor.
        var resolver: HandleResolver?
        /// A file without a usable handle cannot be looked up (`--inode-file-handles mandatory`).
        var mandatory = false
    }

    let root: Inode
    let handles: HandlePolicy
    /// Nodes kept at most (besides the root); a new one beyond is ENFILE.
    let nodeLimit: Int
    /// Readable descriptors of the store's inodes (nil: none kept).
    let readableCache: DescriptorCache?
    private let tables = Mutex(Tables())

    init(root: Inode, handles: HandlePolicy = HandlePolicy(), nodeLimit: Int = PassthroughLimits().nodes,
         readableCache: DescriptorCache? = nil) {
        self.root = root
        self.handles = handles
        self.nodeLimit = nodeLimit
        self.readableCache = readableCache
    }

    /// The inode of `node`; EBADF for ids never issued or already forgotten.
    func inode(_ node: NodeID) throws(Errno) -> Inode {
        if node == .root { return root }
        guard let inode = tables.withLock({ $0.byNode[node]?.inode }) else { throw Errno.EBADF }
        return inode
    }

    /// The node already known for `key`, if any (no lookup counted).
    func known(_ key: InodeKey) -> Inode? {
        if key == root.key { return root }
        return tables.withLock { tables in tables.byKey[key].flatMap { tables.byNode[$0]?.inode } }
    }

    /// Counts one lookup of an already known file; nil if it is new.
    func referenceIfKnown(_ key: InodeKey) -> Inode? {
        if key == root.key { return root }
        let found = tables.withLock { tables -> Inode? in
            guard let node = tables.byKey[key] else { return nil }
            return tables.countLookup(of: node)
        }
        guard let found else { return nil }
        // (st_dev, st_ino) names one file only while something keeps it alive: once
        // a handle inode's descriptor is evicted, the host may delete the file and
        // give its number to a new one. The handle (with its generation) tells.
        if found.isStale {
            dropStale(found)
            return nil
        }
        return found
    }

    /// Takes back the lookup just counted on an inode whose file is gone, and
    /// unmaps its key, which now names another file. The guest keeps the old
    /// node (ESTALE) until it forgets it.
    private func dropStale(_ inode: Inode) {
        let removed: Inode? = tables.withLock { tables in
            if tables.byKey[inode.key] == inode.node { tables.byKey[inode.key] = nil }
            guard var record = tables.byNode[inode.node] else { return nil }
            record.lookups -= min(1, record.lookups)
            if record.lookups > 0 {
                tables.byNode[inode.node] = record
                return nil
            }
            tables.byNode[inode.node] = nil
            return record.inode
        }
        _ = removed // released outside the lock
    }

    /// What `reference` found in the table for a file.
    private enum Entered {
        /// The file's node, one lookup counted.
        case known(Inode)
        /// A new node, counted once; its slot (file handles) is not yet in the cache.
        case new(Inode, DescriptorSlot?)
        /// No room for another node.
        case full
    }

    /// Counts one lookup of the file `fd` (a new O_PATH descriptor) refers
    /// to, adding it if new (`isNew`). The store keeps `fd` (in the inode or its
    /// descriptor cache) only for a new inode; otherwise it is closed here.
    /// With mandatory file handles, a file without one cannot be added.
    ///
    /// One critical section finds the file's node or enters a new one, with one
    /// probe of the key table (a lookup first and an insert later cost a lock
    /// round and two more hashes of the key, on every new inode, which a LOOKUP
    /// soon FORGOTTEN pays in full). A known file costs no allocation.
    func reference(_ fd: consuming OwnedDescriptor, stat st: stat) throws(Errno) -> (inode: Inode, isNew: Bool) {
        let key = InodeKey(st)
        if key == root.key { return (root, false) }
        let descriptor = PathDescriptor(fd)
        // With mandatory handles the handle is taken now (a system call a known file need not make).
        var handle: KernelFileHandle?
        if handles.mandatory, let resolver = handles.resolver {
            if let known = referenceIfKnown(key) { return (known, false) }
            guard let taken = try resolver.handle(of: descriptor.fd) else { throw Errno(EXDEV) }
            handle = taken
        }
        let fileType = UInt32(st.st_mode) & LinuxFileMode.typeMask
        while true {
            let entered = tables.withLock { tables -> Entered in
                guard tables.byNode.count < nodeLimit else {
                    if let node = tables.byKey[key], let inode = tables.countLookup(of: node) { return .known(inode) }
                    return .full
                }
                let candidate = NodeID(tables.nextNode)
                let node = tables.byKey.valueOrInsert(candidate, for: key)
                if node != candidate {
                    if let inode = tables.countLookup(of: node) { return .known(inode) }
                    tables.byKey[key] = candidate // a key left pointing at a removed node
                }
                tables.nextNode += 1
                let made = makeInode(candidate, descriptor, handle: handle, key: key, fileType: fileType)
                tables.byNode[candidate] = Record(inode: made.inode, lookups: 1)
                return .new(made.inode, made.slot)
            }
            switch entered {
            case .new(let inode, let slot):
                // Counted in the cache now that the inode is in the table (it held the
                // descriptor already, so a lookup racing with this one could use it).
                if let slot { handles.resolver?.cache.admit(slot) }
                return (inode, true)
            case .known(let inode):
                // (st_dev, st_ino) names one file only while something keeps it alive:
                // a known inode whose file is gone gives up the key, and ours goes in.
                guard inode.isStale else { return (inode, false) }
                dropStale(inode)
            case .full:
                throw Errno.ENFILE
            }
        }
    }

    /// A new inode holding `descriptor`: pinned, or (file handles) in a slot not yet
    /// counted in the cache, whose handle is `handle` if taken already, else taken
    /// when the cache first closes the descriptor.
    private func makeInode(_ node: NodeID, _ descriptor: PathDescriptor, handle: KernelFileHandle?, key: InodeKey,
                           fileType: UInt32) -> (inode: Inode, slot: DescriptorSlot?) {
        guard let resolver = handles.resolver else {
            return (Inode(node: node, pinned: descriptor, key: key, fileType: fileType, readableCache: readableCache), nil)
        }
        let slot = DescriptorSlot(handle: handle, mount: resolver.mountID, holding: descriptor)
        return (Inode(node: node, slot: slot, resolver: resolver, key: key, fileType: fileType, readableCache: readableCache), slot)
    }

    /// Counts one more lookup of an inode the caller holds ("." and ".."),
    /// returning the inode the table has for that file (re-added if a FORGET
    /// removed it meanwhile). The root is not counted.
    func referenceAgain(_ inode: Inode) -> Inode {
        if inode.node == .root { return inode }
        return tables.withLock { tables in
            let node = tables.byKey[inode.key] ?? inode.node
            if let counted = tables.countLookup(of: node) { return counted }
            tables.byNode[inode.node] = Record(inode: inode, lookups: 1)
            tables.byKey[inode.key] = inode.node
            return inode
        }
    }

    /// Drops `count` lookups; the node goes when none remain. A count larger
    /// than what was given is clamped; unknown nodes and the root are ignored.
    /// Returns whether the node was removed.
    @discardableResult
    func forget(_ node: NodeID, count: UInt64) -> Bool {
        if node == .root { return false }
        // The inode is released after the lock (its deinit closes a descriptor).
        let removed: Inode? = tables.withLock { tables in
            // Counted down in place (one lookup of the node, not a read, a write and a removal).
            guard let index = tables.byNode.index(forKey: node) else { return nil }
            let remaining = tables.byNode.values[index].lookups
            guard remaining > count else {
                let record = tables.byNode.remove(at: index).value
                // One probe of the key table (a read and a removal by key hashed it twice).
                if let keyIndex = tables.byKey.index(forKey: record.inode.key), tables.byKey.values[keyIndex] == node {
                    tables.byKey.remove(at: keyIndex)
                }
                return record.inode
            }
            tables.byNode.values[index].lookups = remaining - count
            return nil
        }
        return removed != nil
    }

    /// Lookups the kernel holds on `node` (for tests and diagnostics).
    func lookupCount(_ node: NodeID) -> UInt64? {
        tables.withLock { $0.byNode[node]?.lookups }
    }

    var count: Int { tables.withLock { $0.byNode.count } }

    /// Forgets every node but the root (DESTROY, new session).
    func removeAll() {
        let old = tables.withLock { tables -> Tables in
            let old = tables
            tables.byNode = [:]
            tables.byKey = [:]
            return old
        }
        _ = old // released here, outside the lock
    }
}

extension Dictionary {
    /// The value for `key`, entering `value` first if there is none: one hash and
    /// probe, where a lookup and then an insert take two.
    fileprivate mutating func valueOrInsert(_ value: Value, for key: Key) -> Value {
        func read(_ stored: inout Value) -> Value { stored }
        return read(&self[key, default: value])
    }
}
