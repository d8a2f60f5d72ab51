// The entries of a RAM directory: an open-addressing hash table from name to
// node. Swift's Dictionary hashes String keys with SipHash, which costs about
// 250 ns per lookup under TCG; FNV-1a over the UTF-8 bytes of a short name is a
// fraction of that, and lookups happen for every path component.

struct RamNameTable {
    private struct Slot {
        var name: String
        var node: RamNode?   // nil with a name: a removed entry (tombstone)
        var hash: UInt64
    }

    private var slots: [Slot?] = []
    private(set) var count = 0
    /// Live entries plus tombstones: what decides when to rebuild.
    private var usedSlots = 0

    var isEmpty: Bool { count == 0 }

    subscript(name: String) -> RamNode? {
        guard count > 0 else { return nil }
        let hash = RamNameTable.hash(name)
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while let slot = slots[index] {
            if slot.hash == hash, let node = slot.node, slot.name == name { return node }
            index = (index + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Adds `name` or replaces its node.
    mutating func set(_ node: RamNode, for name: String) {
        if (usedSlots + 1) * 2 > slots.count { rebuild(capacity: max(8, (count + 1) * 4)) }
        let hash = RamNameTable.hash(name)
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        var reusable: Int? = nil
        while let slot = slots[index] {
            if slot.node == nil {
                if reusable == nil { reusable = index }
            } else if slot.hash == hash && slot.name == name {
                slots[index]!.node = node
                return
            }
            index = (index + 1) & (slots.count - 1)
        }
        if let tombstone = reusable {
            index = tombstone
        } else {
            usedSlots += 1
        }
        slots[index] = Slot(name: name, node: node, hash: hash)
        count += 1
    }

    /// Removes `name`; returns its node, or nil if there was none.
    mutating func removeValue(for name: String) -> RamNode? {
        guard count > 0 else { return nil }
        let hash = RamNameTable.hash(name)
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while let slot = slots[index] {
            if slot.hash == hash, let node = slot.node, slot.name == name {
                if slots[(index + 1) & (slots.count - 1)] == nil {
                    // No probe chain continues past this slot: it can become empty.
                    slots[index] = nil
                    usedSlots -= 1
                } else {
                    // Keep the slot occupied so probe chains through it stay intact.
                    slots[index] = Slot(name: "", node: nil, hash: 0)
                }
                count -= 1
                return node
            }
            index = (index + 1) & (slots.count - 1)
        }
        return nil
    }

    func forEach(_ body: (String, RamNode) -> Void) {
        for case let slot? in slots {
            if let node = slot.node { body(slot.name, node) }
        }
    }

    /// Reinserts the live entries into a table of `capacity` slots (rounded up to a power of two).
    private mutating func rebuild(capacity: Int) {
        var size = 8
        while size < capacity { size *= 2 }
        let old = slots
        slots = [Slot?](repeating: nil, count: size)
        usedSlots = count
        for case let slot? in old {
            guard slot.node != nil else { continue }
            var index = Int(truncatingIfNeeded: slot.hash) & (size - 1)
            while slots[index] != nil { index = (index + 1) & (size - 1) }
            slots[index] = slot
        }
    }

    /// FNV-1a over the UTF-8 bytes (names are compared byte for byte, as on Linux).
    /// withUTF8 gives a plain buffer: half the instructions of iterating `utf8`.
    private static func hash(_ name: String) -> UInt64 {
        var text = name
        return text.withUTF8 { (bytes) -> UInt64 in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            return hash
        }
    }
}
