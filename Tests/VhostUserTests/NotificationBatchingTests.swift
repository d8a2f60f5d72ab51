import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Replies served on the queue's thread interrupt the guest once per burst of
/// available chains (and at least every `repliesPerInterrupt` replies), not once
/// per reply: a guest that sends the pieces of one large O_DIRECT read together
/// and waits for all of them takes one interrupt, not one per piece.
@Suite(.serialized) struct NotificationBatchingTests {
    /// A guest without EVENT_IDX that never sets NO_INTERRUPT: it asks for an
    /// interrupt after every reply, so only the back end's batching saves any.
    func startedQueue(_ guest: TestGuest, call: Int32, kick: Int32) -> TestFrontEnd {
        let frontEnd = TestFrontEnd(device: ReversingDevice())
        let features = VhostUserBackendOffer.features & ~VirtioFeature.ringEventIndex
        frontEnd.setUp(guest: guest, queue: 0, callFd: call, kickFd: kick, features: features)
        return frontEnd
    }

    /// Offers `count` requests (two descriptors each, from `firstHead`) and kicks once.
    func offerBurst(_ guest: TestGuest, count: Int, firstHead: Int, kick: Int32) {
        for i in 0..<count { guest.offerRequest([UInt8(i), 1, 2], head: firstHead + 2 * i) }
        EventNotifier.signal(kick)
    }

    /// Waits (bounded) until the used ring holds `count` replies and the call eventfd
    /// was signalled; returns the signals counted so far, consuming them.
    func signalsOnceAnswered(_ guest: TestGuest, count: Int, call: Int32) -> UInt64? {
        var descriptor = pollfd(fd: call, events: Int16(POLLIN), revents: 0)
        for _ in 0..<5000 {
            if Int(guest.usedIndex) >= count, poll(&descriptor, 1, 0) == 1 {
                var value: UInt64 = 0
                guard read(call, &value, 8) == 8 else { return nil }
                return value
            }
            usleep(1000)
        }
        return nil
    }

    @Test func aBurstOfRepliesInterruptsTheGuestOnce() throws {
        let guest = TestGuest(queueSize: 64)
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = startedQueue(guest, call: call, kick: kick)
        defer { frontEnd.disconnect() }

        offerBurst(guest, count: 3, firstHead: 0, kick: kick)
        let first = signalsOnceAnswered(guest, count: 3, call: call)
        for i in 0..<3 { #expect(guest.reply(head: 2 * i) == [2, 1, UInt8(i)]) }
        // A second burst: the queue's thread handles it only after it has finished
        // signalling the first, so the counts below are all the signals there were.
        offerBurst(guest, count: 1, firstHead: 6, kick: kick)
        let second = signalsOnceAnswered(guest, count: 4, call: call)
        #expect(guest.reply(head: 6) == [2, 1, 0])
        #expect(first == 1, "one interrupt for three replies of one burst")
        #expect(second == 1, "a lone request is still signalled when the ring runs empty")
    }

    @Test func aLongBurstIsSignalledEveryFewReplies() throws {
        let guest = TestGuest(queueSize: 64)
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = startedQueue(guest, call: call, kick: kick)
        defer { frontEnd.disconnect() }

        let perInterrupt = QueueWorker<ReversingDevice>.repliesPerInterrupt
        let count = perInterrupt + 4
        offerBurst(guest, count: count, firstHead: 0, kick: kick)
        var signals: UInt64 = 0
        while signals < 2, let more = signalsOnceAnswered(guest, count: count, call: call) { signals += more }
        for i in 0..<count { #expect(guest.reply(head: 2 * i) == [2, 1, UInt8(i)]) }
        // Then one more request: it is handled only after the burst's last signal.
        guest.offerRequest([9, 1, 2], head: 2 * count)
        EventNotifier.signal(kick)
        signals += signalsOnceAnswered(guest, count: count + 1, call: call) ?? 0
        #expect(signals == 3, "after \(perInterrupt) replies, at the burst's end, and for the lone request")
    }
}
