import CShim
import Glibc

/// The capabilities the daemon keeps once the share is open and the sandbox
/// set up, and `-o modcaps` / `--modcaps` changes to them (virtiofsd's syntax:
/// `+sys_admin:-chown`). Dropped from the effective, permitted, inheritable,
/// ambient and bounding sets; no_new_privs is set, so nothing the daemon runs
/// could regain them. Supplementary groups are dropped too.
struct CapabilitySet: Equatable, Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    var bits: UInt64

    /// Capability numbers by name (linux/capability.h).
    static let names: [String: Int] = [
        "chown": 0, "dac_override": 1, "dac_read_search": 2, "fowner": 3, "fsetid": 4, "kill": 5, "setgid": 6,
        "setuid": 7, "setpcap": 8, "linux_immutable": 9, "net_bind_service": 10, "net_broadcast": 11,
        "net_admin": 12, "net_raw": 13, "ipc_lock": 14, "ipc_owner": 15, "sys_module": 16, "sys_rawio": 17,
        "sys_chroot": 18, "sys_ptrace": 19, "sys_pacct": 20, "sys_admin": 21, "sys_boot": 22, "sys_nice": 23,
        "sys_resource": 24, "sys_time": 25, "sys_tty_config": 26, "mknod": 27, "lease": 28, "audit_write": 29,
        "audit_control": 30, "setfcap": 31, "mac_override": 32, "mac_admin": 33, "syslog": 34, "wake_alarm": 35,
        "block_suspend": 36, "audit_read": 37, "perfmon": 38, "bpf": 39, "checkpoint_restore": 40,
    ]

    /// What the passthrough needs, as virtiofsd keeps: file ownership and
    /// permission overrides, switching to the caller's uid/gid, device nodes,
    /// file capabilities (security.capability when mapped).
    static let passthrough = CapabilitySet(names: ["chown", "dac_override", "fowner", "fsetid", "setgid", "setuid",
                                                   "mknod", "setfcap"])

    /// The parent of the namespace sandbox only waits, forwards signals and
    /// removes the socket and pid file, whose directory may belong to another
    /// user (or be sticky, like /tmp).
    static let supervisor = CapabilitySet(names: ["dac_override", "fowner"])

    /// The passthrough's set for these settings: with inode file handles,
    /// open_by_handle_at needs dac_read_search for as long as the daemon runs
    /// (an evicted inode is reopened by handle), as in virtiofsd.
    static func passthrough(for settings: DaemonSettings) -> CapabilitySet {
        guard settings.inodeFileHandles != .never else { return passthrough }
        return CapabilitySet(bits: passthrough.bits | CapabilitySet(names: ["dac_read_search"]).bits)
    }

    init(bits: UInt64) { self.bits = bits }

    init(names: [String]) {
        bits = names.reduce(0) { $0 | (1 << UInt64(Self.names[$1]!)) }
    }

    func contains(_ name: String) -> Bool { Self.names[name].map { bits & (1 << UInt64($0)) != 0 } ?? false }

    /// Applies `+name:-name:...` (names with or without `cap_`, any case).
    func modified(by changes: String) throws(Failure) -> CapabilitySet {
        var result = self
        for change in changes.split(separator: ":", omittingEmptySubsequences: true) {
            guard let sign = change.first, sign == "+" || sign == "-" else {
                throw Failure(description: "modcaps: '\(change)' must start with + or -")
            }
            var name = change.dropFirst().lowercased()
            if name.hasPrefix("cap_") { name.removeFirst(4) }
            guard let number = Self.names[name] else { throw Failure(description: "modcaps: unknown capability '\(name)'") }
            if sign == "+" { result.bits |= 1 << UInt64(number) } else { result.bits &= ~(1 << UInt64(number)) }
        }
        return result
    }

    /// Reduces the calling thread (call before any other thread starts, so
    /// all inherit it) to this set, and sets no_new_privs. Without root there
    /// is nothing to keep: in a user namespace of its own (`--sandbox
    /// namespace` when not root) the daemon holds every capability there and
    /// drops them all; otherwise it has none and only sets no_new_privs.
    func enter(userNamespace: Bool = false) throws(Failure) {
        if geteuid() == 0 {
            // Supplementary groups inherited from whoever started us would grant
            // group access (and count as "in the file's group") to every request.
            try check(setgroups(0, nil), "drop supplementary groups")
            try reduce(to: bits)
        } else if userNamespace {
            // setgroups is denied in a namespace we mapped ourselves: the groups stay.
            try reduce(to: 0)
        }
        try check(shim_prctl(shim_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    }

    private func reduce(to kept: UInt64) throws(Failure) {
        // The bounding set first: dropping from it needs CAP_SETPCAP, which capset removes.
        var number: UInt = 0
        while shim_prctl(shim_PR_CAPBSET_READ, number, 0, 0, 0) >= 0 {
            if kept & (1 << UInt64(number)) == 0 {
                try check(shim_prctl(shim_PR_CAPBSET_DROP, number, 0, 0, 0), "drop capability \(number) from the bounding set")
            }
            number += 1
        }
        try check(shim_prctl(shim_PR_CAP_AMBIENT, UInt(shim_PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0), "clear ambient capabilities")
        try check(shim_capset(kept, kept, 0), "capset")
    }

    private func check(_ result: Int32, _ what: String) throws(Failure) {
        if result != 0 { throw Failure(description: "\(what): \(String(cString: strerror(errno)))") }
    }
}
