import FuseServer
import Passthrough
import SwiftFSProtocol
import Testing

@Suite struct InitNegotiationTests {
    @Test func requestsBeforeInitGetEIOAndInitStillWorks() throws {
        let session = try FuseTestSession(initialize: false)
        #expect(session.getattr(1).error == Errno.EIO.rawValue)
        #expect(session.lookup("x").error == Errno.EIO.rawValue)
        #expect(session.sendInit().ok)
        #expect(session.getattr(1).ok)
    }

    @Test func linux61InitGetsMaxPagesAndOurFlags() throws {
        let session = try FuseTestSession(initialize: false)
        let reply = session.sendInit()
        let out = try #require(reply.record(FuseInitOut.self))
        #expect(reply.body.count == FuseInitOut.wireSize)
        #expect(out.major == 7 && out.minor == 38)
        #expect(out.maxWrite == 1 << 20)
        #expect(out.maxPages == 256)
        #expect(out.maxReadahead == 128 * 1024) // never more than the kernel offered
        let flags = FuseInitFlags(rawValue: UInt64(out.flags) | UInt64(out.flags2) << 32)
        #expect(flags.isSuperset(of: [.asyncRead, .posixLocks, .flockLocks, .atomicOTrunc, .exportSupport, .bigWrites,
                                      .doReaddirplus, .readdirplusAuto, .parallelDirops, .maxPages, .initExt, .asyncDIO,
                                      .autoInvalData]))
        // Not implemented, so never granted.
        #expect(flags.isDisjoint(with: [.writebackCache, .setxattrExt, .hasInodeDAX, .securityContext, .spliceRead,
                                        .dontMask, .posixACL, .handleKillprivV2]))
    }

    /// Granted in every cache mode and with or without killpriv_v2 (as libfuse and
    /// virtiofsd do), but never to a client that did not offer it (the unikernel).
    @Test func autoInvalDataIsGrantedWheneverOffered() throws {
        func granted(_ session: FuseTestSession, offer: FuseInitFlags = FuseTestSession.linuxOffer) throws -> Bool {
            let out = try #require(session.sendInit(flags: offer).record(FuseInitOut.self))
            return FuseInitFlags(rawValue: UInt64(out.flags)).contains(.autoInvalData)
        }
        for cache in CachePolicy.allCases {
            #expect(try granted(FuseTestSession(cache: cache, initialize: false)))
        }
        #expect(try granted(FuseTestSession(initialize: false, killprivV2: true)))
        #expect(!(try granted(FuseTestSession(initialize: false),
                              offer: FuseTestSession.linuxOffer.subtracting(.autoInvalData))))
    }

    @Test func olderKernelGetsShortReplyAndOnlyOfferedFlags() throws {
        let session = try FuseTestSession(initialize: false)
        let reply = session.sendInit(minor: 22, flags: [.asyncRead, .bigWrites])
        #expect(reply.ok)
        #expect(reply.body.count == FuseCompatSize.initOut22)
        let padded = reply.body + [UInt8](repeating: 0, count: FuseInitOut.wireSize - reply.body.count)
        let out = padded.withUnsafeBytes { $0.loadUnaligned(as: FuseInitOut.self) }
        #expect(out.minor == 22)
        #expect(FuseInitFlags(rawValue: UInt64(out.flags)) == [.asyncRead, .bigWrites])
    }

    @Test func newerMajorGetsOurVersionOnly() throws {
        let session = try FuseTestSession(initialize: false)
        let reply = session.sendInit(major: 8, minor: 0)
        #expect(reply.ok)
        #expect(reply.body.count == FuseCompatSize.initOut)
        #expect(session.getattr(1).error == Errno.EIO.rawValue) // still not initialised
    }

    @Test func ancientMinorIsRefused() throws {
        let session = try FuseTestSession(initialize: false)
        #expect(session.sendInit(minor: 5).error == Errno.EPROTO.rawValue)
    }

    @Test func destroyEndsTheSessionAndInitStartsAnew() throws {
        let session = try FuseTestSession()
        let (created, entry, _) = session.create("file")
        #expect(created.ok)
        #expect(session.send(.destroy)?.ok == true)
        #expect(session.getattr(1).error == Errno.EIO.rawValue)
        #expect(session.sendInit().ok)
        // Nodes of the old session are gone.
        #expect(session.getattr(entry!.nodeID).error == Errno.EBADF.rawValue)
        #expect(session.lookup("file").ok)
    }
}
