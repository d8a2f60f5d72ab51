@testable import FuseServer
import Glibc
@testable import Passthrough
import Testing

/// virtiofsd's --xattrmap grammar and matching (doc/xattr-mapping.md).
@Suite struct XattrMapTests {
    func client(_ map: XattrMap, _ name: String) -> XattrMap.ClientDecision {
        Array(name.utf8).withUnsafeBufferPointer { map.mapClient($0) }
    }

    func server(_ map: XattrMap, _ name: String) -> String? {
        Array(name.utf8).withUnsafeBufferPointer { map.mapServer($0).map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func parsesRulesWithAnySeparatorAndWhiteSpaceBetweenRules() throws {
        let map = try XattrMap(parsing: """
            /prefix/all/trusted./user.virtiofs./
             /bad/server//trusted./
            :bad:client:user.virtiofs.::
            |ok|all|||
            """)
        #expect(map.rules == [
            .init(.prefix, .all, key: "trusted.", prepend: "user.virtiofs."),
            .init(.bad, .server, key: "", prepend: "trusted."),
            .init(.bad, .client, key: "user.virtiofs.", prepend: ""),
            .init(.ok, .all, key: "", prepend: ""),
        ])
    }

    @Test func mapShorthandExpandsAsVirtiofsdDocuments() throws {
        #expect(try XattrMap(parsing: ":map:trusted.:user.virtiofs.:").rules == [
            .init(.prefix, .all, key: "trusted.", prepend: "user.virtiofs."),
            .init(.bad, .server, key: "", prepend: "trusted."),
            .init(.bad, .client, key: "user.virtiofs.", prepend: ""),
            .init(.ok, .all, key: "", prepend: ""),
        ])
        #expect(try XattrMap(parsing: ":map::user.virtiofs.:").rules == [
            .init(.prefix, .all, key: "", prepend: "user.virtiofs."),
            .init(.bad, .all, key: "", prepend: ""),
        ])
    }

    @Test func refusesMalformedMappings() {
        for bad in ["", "   ", ":prefix:all:trusted.", ":nope:all:::", ":ok:both:::", ":map:a:b::ok:all:::", ":map:a:"] {
            #expect(throws: XattrMap.ParseError.self, "\(bad)") { try XattrMap(parsing: bad) }
        }
    }

    @Test func firstMatchingRuleWinsAndUnmatchedNamesAreRefused() throws {
        let map = try XattrMap(parsing: ":ok:client:user.::/unsupported/all/security.selinux/security.selinux/")
        #expect(client(map, "user.a") == .host(Array("user.a".utf8)))
        #expect(client(map, "security.selinux") == .unsupported)
        #expect(client(map, "trusted.x") == .refused)
        #expect(server(map, "user.a") == nil, "client-only rules do not apply to host names")
        #expect(server(map, "security.selinux") == nil)
    }

    @Test func prefixRulesPrependForTheGuestAndStripForTheHost() throws {
        let map = try XattrMap(parsing: ":map:trusted.:user.virtiofs.:")
        #expect(client(map, "trusted.overlay.redirect") == .host(Array("user.virtiofs.trusted.overlay.redirect".utf8)))
        #expect(client(map, "user.virtiofs.trusted.x") == .refused, "the guest may not reach the mapped names directly")
        #expect(client(map, "user.plain") == .host(Array("user.plain".utf8)))
        #expect(server(map, "user.virtiofs.trusted.overlay.redirect") == "trusted.overlay.redirect")
        #expect(server(map, "trusted.host.only") == nil, "host trusted.* names are hidden")
        #expect(server(map, "user.plain") == "user.plain")
    }

    @Test func theDefaultRefusesTrustedAndSecurityAndPassesTheRest() {
        let map = XattrMap.default
        #expect(client(map, "trusted.overlay.redirect") == .refused)
        #expect(client(map, "security.ima") == .unsupported)
        #expect(client(map, "security.capability") == .unsupported)
        #expect(client(map, "security.selinux") == .unsupported)
        #expect(client(map, "user.x") == .host(Array("user.x".utf8)))
        #expect(client(map, "system.posix_acl_access") == .host(Array("system.posix_acl_access".utf8)))
        #expect(server(map, "trusted.x") == nil && server(map, "security.selinux") == nil)
        #expect(server(map, "user.x") == "user.x")
    }
}
