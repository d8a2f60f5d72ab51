import SwiftFSProtocol
import Testing

/// 9P2000.L framing, byte for byte as Linux's net/9p/protocol.c writes and reads it.
@Suite struct NinePWireTests {
    private func encode(_ request: NinePRequest, tag: UInt16 = 1, capacity: Int = 256) -> [UInt8]? {
        var storage = [UInt8](repeating: 0, count: capacity)
        let length: Int? = storage.withUnsafeMutableBytes { raw in
            var writer = NinePWriter(raw)
            return request.encode(tag: tag, into: &writer) ? writer.offset : nil
        }
        return length.map { Array(storage[0..<$0]) }
    }

    @Test func versionIsSizeTypeNotagMsizeAndString() {
        let bytes = encode(.version(messageSize: 512 * 1024, version: "9P2000.L"), tag: NineP.noTag)
        #expect(bytes == [21, 0, 0, 0, 100, 0xFF, 0xFF, 0x00, 0x00, 0x08, 0x00, 8, 0] + Array("9P2000.L".utf8))
    }

    @Test func walkCountsItsNames() {
        let bytes = encode(.walk(fid: 1, newFid: 2, names: ["a", "bc"]), tag: 7)
        #expect(bytes == [24, 0, 0, 0, 110, 7, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 0x61, 2, 0, 0x62, 0x63])
        let tooMany = [String](repeating: "x", count: NineP.maxWalkNames + 1)
        #expect(encode(.walk(fid: 1, newFid: 2, names: tooMany)) == nil)
    }

    @Test func writeSizeCountsTheDataThatFollows() {
        let bytes = encode(.write(fid: 3, offset: 0x1_0000_0000, dataCount: 100))
        #expect(bytes?.count == NineP.ioHeaderSize - 1)   // Twrite's header is 23 bytes
        #expect(bytes?.prefix(5) == [123, 0, 0, 0, 118])
        #expect(bytes?[11...18] == [0, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func requestThatDoesNotFitIsRefused() {
        #expect(encode(.lcreate(fid: 1, name: String(repeating: "n", count: 300), flags: 0, mode: 0, gid: 0)) == nil)
        #expect(encode(.clunk(fid: 9), capacity: 10) == nil)
        #expect(encode(.clunk(fid: 9), capacity: 11)?.count == 11)
    }

    @Test func getattrReplyIs153BytesAndShortOnesAreRefused() {
        var body = [UInt8](repeating: 0, count: 153)
        body[8] = NinePQidType.directory        // qid.type
        body[21] = 0xED; body[22] = 0x41         // mode 0o40755 (little-endian)
        body[49] = 0x34; body[50] = 0x12         // size: after valid[8] qid[13] mode uid gid[4 each] nlink rdev[8 each]
        body.withUnsafeBytes { raw in
            var reader = NinePReader(raw)
            let attributes = reader.attributes()
            #expect(attributes?.qid.isDirectory == true)
            #expect(attributes?.mode == 0o40755)
            #expect(attributes?.size == 0x1234)
            #expect(reader.remaining == 0)
            var short = NinePReader(UnsafeRawBufferPointer(rebasing: raw[0..<152]))
            #expect(short.attributes() == nil)
            #expect(short.remaining == 152)
        }
    }

    @Test func statfsReplyIs60Bytes() {
        let body = [UInt8](repeating: 1, count: 60)
        body.withUnsafeBytes { raw in
            var reader = NinePReader(raw)
            #expect(reader.fileSystemStats()?.nameLength == 0x0101_0101)
            var short = NinePReader(UnsafeRawBufferPointer(rebasing: raw[0..<59]))
            #expect(short.fileSystemStats() == nil)
        }
    }

    @Test func directoryEntryWhoseNameRunsPastTheDataIsRefused() {
        // qid[13] offset[8] type[1] name[s]
        var record = [UInt8](repeating: 0, count: 22) + [4, 0] + Array("file".utf8)
        record.withUnsafeBytes { raw in
            var reader = NinePReader(raw)
            let entry = NinePDirectoryEntry.read(from: &reader)
            #expect(entry.map { String(decoding: $0.name, as: UTF8.self) } == "file")
            #expect(reader.remaining == 0)
        }
        record[22] = 5   // one byte longer than what is there
        record.withUnsafeBytes { raw in
            var reader = NinePReader(raw)
            #expect(NinePDirectoryEntry.read(from: &reader) == nil)
        }
    }

    @Test func everyReplyTypeIsItsRequestPlusOne() {
        #expect(NinePMessageType.tversion.replyType == NinePMessageType.rversion.rawValue)
        #expect(NinePMessageType.twalk.replyType == NinePMessageType.rwalk.rawValue)
        #expect(NinePMessageType.tlerror.replyType == NinePMessageType.rlerror.rawValue)
        #expect(NinePMessageType.tunlinkat.replyType == NinePMessageType.runlinkat.rawValue)
    }
}
