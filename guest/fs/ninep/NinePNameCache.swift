// (directory fid, name) -> node, each entry valid for a second, so repeated paths
// cost no Twalk + Tgetattr (the FUSE client caches for the server's entry timeout;
// virtiofsd's cache=auto is one second too). The guest is the only writer of the
// share while it runs; our own changes update or drop entries.

struct NinePEntryKey: Hashable {
    let directoryFid: UInt32
    let name: String
}

final class NinePNameCache {
    private var entries: [NinePEntryKey: (node: NinePNode, validUntil: UInt64)] = [:]
    static let validityNanoseconds: UInt64 = 1_000_000_000
    /// At most this many entries stay after a sweep (expired ones go first, then all).
    static let maxEntries = 4096

    var count: Int { entries.count }

    func node(_ name: String, in directory: NinePNode) -> NinePNode? {
        guard let entry = entries[NinePEntryKey(directoryFid: directory.fid, name: name)],
              monotonicNanoseconds() < entry.validUntil else { return nil }
        return entry.node
    }

    func record(_ node: NinePNode, name: String, in directory: NinePNode) {
        entries[NinePEntryKey(directoryFid: directory.fid, name: name)] =
            (node, monotonicNanoseconds() &+ NinePNameCache.validityNanoseconds)
    }

    func remove(_ name: String, in directory: NinePNode) {
        entries[NinePEntryKey(directoryFid: directory.fid, name: name)] = nil
    }

    /// Next sweep when the cache grows past this: a sweep walks every entry, so it happens once
    /// per thousand new entries, not on every call while the cache is full.
    private var sweepAt = NinePNameCache.maxEntries

    /// Between operations: keep the cache (and with it the server's fids) bounded.
    func housekeeping() {
        guard entries.count > sweepAt else { return }
        let now = monotonicNanoseconds()
        entries = entries.filter { $0.value.validUntil > now }
        if entries.count > NinePNameCache.maxEntries { entries.removeAll() }
        sweepAt = entries.count + NinePNameCache.maxEntries / 4
    }

    func removeAll() { entries.removeAll() }
}
