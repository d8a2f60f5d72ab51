import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Random garbage from the guest and from the front end: never a crash,
/// never a segment outside guest memory, and the daemon keeps answering.
@Suite(.serialized) struct HostileInputTests {
    /// A deterministic generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    @Test func randomDescriptorTablesNeverEscapeGuestMemory() throws {
        let guest = TestGuest(queueSize: 16)
        let memory = try guest.splitMemory(at: 0x80000)
        let walker = DescriptorChainWalker(table: UnsafeRawPointer(guest.bytes + Int(TestGuest.descriptorTable)),
                                           queueSize: 16, indirectAllowed: true)
        var random = SplitMix(state: 2026)
        var buffers = ChainBuffers()
        var accepted = 0
        for _ in 0..<5000 {
            for table: UInt64 in [TestGuest.descriptorTable, 0x20000] {
                for i in 0..<16 {
                    let nearEdge = [UInt64(0x7fff0), UInt64(TestGuest.size - 32), 0x20000, UInt64.max - 8]
                    let address = Bool.random(using: &random) ? nearEdge.randomElement(using: &random)!
                                                              : UInt64.random(in: 0..<UInt64(TestGuest.size + 0x1000), using: &random)
                    let length = Bool.random(using: &random) ? UInt32.random(in: 0...64, using: &random) : UInt32.random(in: 0...UInt32.max, using: &random)
                    guest.setDescriptor(i, address: address, length: length, flags: UInt16.random(in: 0...7, using: &random),
                                        next: UInt16.random(in: 0...18, using: &random), table: table)
                }
            }
            let head = UInt16.random(in: 0...17, using: &random)
            do {
                try walker.walk(head: head, memory: memory, into: &buffers)
                accepted += 1
                for segment in buffers.readable + buffers.writable {
                    let base = UnsafeRawPointer(segment.iov_base!)
                    let inside = memory.regions.contains { region in
                        let start = UnsafeRawPointer(region.base)
                        return base >= start && base + segment.iov_len <= start + Int(region.size)
                    }
                    #expect(inside)
                }
            } catch {}
        }
        #expect(accepted > 0, "some random chains are valid")
    }

    @Test func randomControlMessagesGetRepliesAndServingGoesOn() throws {
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        var random = SplitMix(state: 7)
        for _ in 0..<2000 {
            var code = UInt32.random(in: 1...45, using: &random)
            // Turning REPLY_ACK off would leave messages unanswered and the test out of step.
            if code == VhostUserRequest.setProtocolFeatures.rawValue { code = VhostUserRequest.getFeatures.rawValue }
            let payload = (0..<Int.random(in: 0...48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            var bytes = [UInt8](repeating: 0, count: VhostUserHeader.wireSize)
            bytes.withUnsafeMutableBytes {
                $0.storeBytes(of: VhostUserHeader(request: code, flags: VhostUserHeader.version | VhostUserHeader.needReplyFlag,
                                                  size: UInt32(payload.count)), as: VhostUserHeader.self)
            }
            bytes += payload
            _ = bytes.withUnsafeBytes { send(frontEnd.fd, $0.baseAddress, $0.count, 0) }
            let (header, _) = frontEnd.receive()
            #expect(header.request == code && header.flags & VhostUserHeader.replyFlag != 0)
        }
        frontEnd.send(.getFeatures)
        #expect(frontEnd.receiveU64() == VhostUserBackendOffer.features)
        frontEnd.disconnect()
    }
}
