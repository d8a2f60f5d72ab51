/// Which extended attribute names the guest may use, and what they are
/// called on the host: virtiofsd's `--xattrmap` (doc/xattr-mapping.md).
///
/// A mapping is a list of rules `:type:scope:key:prepend:`, each written
/// with a separator of its choice (the rule's first non-blank character).
/// Rules apply in order and the first match wins:
/// - a guest name (SETXATTR, GETXATTR, REMOVEXATTR) is matched by rules of
///   scope `client` or `all` whose `key` prefixes it;
/// - a host name (LISTXATTR) by rules of scope `server` or `all` whose
///   `prepend` prefixes it.
/// `prefix` puts `prepend` before a guest name and strips it from a host
/// name; `ok` passes the name unchanged; `bad` refuses it (EPERM; ENODATA for
/// GETXATTR) and hides it from lists; `unsupported` refuses with ENOTSUP and
/// hides. A name no rule matches is refused like `bad`.
/// `:map:key:prepend:` is shorthand for the rules that map `key` names (all
/// names if `key` is empty) under `prepend` and keep the guest from reaching
/// `prepend` directly; it must be the last rule.
///
/// Without `--xattrmap` swiftfsd applies `XattrMap.default`, which differs
/// from virtiofsd's pass-everything default: `trusted.*` and `security.*`
/// are refused, because the daemon (root) would otherwise let any guest set
/// host-significant attributes such as `security.capability` (file
/// capabilities on the host), `security.ima` or `trusted.overlay.*`.
/// `security.*` is refused as `unsupported` (EOPNOTSUPP, as from a filesystem
/// without a security namespace), which is what the share is to the guest:
/// SELinux then labels the mount by genfscon instead of as unlabeled xattr
/// files (its mount check falls back on EOPNOTSUPP, not on ENODATA), and
/// `ls -l` stops asking `security.selinux` of every file.
public struct XattrMap: Sendable, Equatable {
    public enum Kind: String, Sendable { case prefix, ok, bad, unsupported }
    public enum Scope: String, Sendable { case client, server, all }

    public struct Rule: Sendable, Equatable {
        public var kind: Kind
        public var scope: Scope
        public var key: [UInt8]
        public var prepend: [UInt8]

        public init(_ kind: Kind, _ scope: Scope, key: String, prepend: String) {
            self.kind = kind; self.scope = scope; self.key = Array(key.utf8); self.prepend = Array(prepend.utf8)
        }

        var matchesClient: Bool { scope != .server }
        var matchesServer: Bool { scope != .client }
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public let rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// The policy without `--xattrmap`: trusted.* refused, security.* unsupported, everything else passed.
    public static let `default` = XattrMap(rules: [
        Rule(.bad, .all, key: "trusted.", prepend: "trusted."),
        Rule(.unsupported, .all, key: "security.", prepend: "security."),
        Rule(.ok, .all, key: "", prepend: ""),
    ])

    /// Parses virtiofsd's syntax.
    public init(parsing text: String) throws(ParseError) {
        var rules: [Rule] = []
        var rest = Substring(text)
        var sawMap = false
        while true {
            rest = rest.drop(while: { $0.isWhitespace })
            guard let separator = rest.first else { break }
            if sawMap { throw ParseError(description: "xattrmap: the 'map' rule must be the last rule") }
            var fields: [Substring] = []
            var remainder = rest.dropFirst()
            // type, then scope/key/prepend; 'map' has only key and prepend.
            while true {
                guard let end = remainder.firstIndex(of: separator) else {
                    throw ParseError(description: "xattrmap: rule '\(rest)' lacks a closing '\(separator)'")
                }
                fields.append(remainder[..<end])
                remainder = remainder[remainder.index(after: end)...]
                if fields.count == (fields[0] == "map" ? 3 : 4) { break }
            }
            rest = remainder
            if fields[0] == "map" {
                sawMap = true
                rules += Self.expandMap(key: String(fields[1]), prepend: String(fields[2]))
                continue
            }
            guard let kind = Kind(rawValue: String(fields[0])) else {
                throw ParseError(description: "xattrmap: unknown rule type '\(fields[0])' (prefix, ok, bad, unsupported or map)")
            }
            guard let scope = Scope(rawValue: String(fields[1])) else {
                throw ParseError(description: "xattrmap: unknown scope '\(fields[1])' (client, server or all)")
            }
            rules.append(Rule(kind, scope, key: String(fields[2]), prepend: String(fields[3])))
        }
        guard !rules.isEmpty else { throw ParseError(description: "xattrmap: no rules") }
        self.rules = rules
    }

    /// The rules `:map:key:prepend:` stands for.
    static func expandMap(key: String, prepend: String) -> [Rule] {
        if key.isEmpty {
            // Everything under prepend; host names without it are hidden.
            return [Rule(.prefix, .all, key: "", prepend: prepend), Rule(.bad, .all, key: "", prepend: "")]
        }
        return [
            Rule(.prefix, .all, key: key, prepend: prepend),
            // Host names that look like unmapped `key` names are hidden...
            Rule(.bad, .server, key: "", prepend: key),
            // ...and the guest may not write the mapped names directly.
            Rule(.bad, .client, key: prepend, prepend: ""),
            Rule(.ok, .all, key: "", prepend: ""),
        ]
    }

    /// What happens to a guest-supplied name.
    public enum ClientDecision: Equatable {
        /// Use this host name (the guest's name if unchanged).
        case host([UInt8])
        /// Refused (`bad`, or no rule matched).
        case refused
        /// Refused as not supported.
        case unsupported
    }

    public func mapClient(_ name: UnsafeBufferPointer<UInt8>) -> ClientDecision {
        for rule in rules where rule.matchesClient && name.starts(with: rule.key) {
            switch rule.kind {
            case .prefix: return .host(rule.prepend + Array(name))
            case .ok: return .host(Array(name))
            case .bad: return .refused
            case .unsupported: return .unsupported
            }
        }
        return .refused
    }

    /// The guest's name for a host name from LISTXATTR; nil hides it.
    public func mapServer(_ name: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        for rule in rules where rule.matchesServer && name.starts(with: rule.prepend) {
            switch rule.kind {
            case .prefix:
                let stripped = UnsafeBufferPointer(rebasing: name[rule.prepend.count...])
                return stripped.isEmpty ? nil : stripped
            case .ok: return name
            case .bad, .unsupported: return nil
            }
        }
        return nil
    }

    /// True when the policy passes every guest name unchanged (nothing to do per request).
    var isIdentity: Bool { rules.first.map { $0.kind == .ok && $0.scope == .all && $0.key.isEmpty && $0.prepend.isEmpty } ?? false }
}
