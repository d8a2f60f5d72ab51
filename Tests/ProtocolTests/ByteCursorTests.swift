import SwiftFSProtocol
import Testing

/// ByteReader and ByteWriter: a record that does not fit is refused whole.
@Suite struct ByteCursorTests {
    @Test func shortReadsReturnNilAndConsumeNothing() {
        let bytes: [UInt8] = Array(0..<20)
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            #expect(reader.read(FuseOutHeader.self) != nil) // 16 bytes
            #expect(reader.remaining == 4)
            #expect(reader.read(FuseForgetIn.self) == nil) // 8 > 4
            #expect(reader.remaining == 4)
            #expect(reader.readBytes(5) == nil)
            #expect(reader.readBytes(-1) == nil)
            #expect(reader.readBytes(4)?.count == 4)
            #expect(reader.remaining == 0)
            #expect(reader.skip(1) == false)
        }
    }

    @Test func unalignedReadsWork() {
        var bytes = [UInt8](repeating: 0, count: 17)
        bytes[1] = 0x2A
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            #expect(reader.skip(1) == true)
            #expect(reader.read(FuseForgetIn.self)?.nlookup == 0x2A)
        }
    }

    @Test func readsAtAnOffsetAreBoundsCheckedAndLeaveTheCursor() {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[12] = 0x2A
        bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            #expect(reader.read(FuseForgetIn.self, at: 12)?.nlookup == 0x2A)
            #expect(reader.read(FuseForgetIn.self, at: 13) == nil) // 8 > 7 left
            #expect(reader.read(FuseForgetIn.self, at: -1) == nil)
            #expect(reader.read(FuseForgetIn.self, at: Int.max) == nil)
            #expect(reader.offset == 0)
        }
    }

    @Test func shortWritesReturnFalseAndLeaveTheBufferAlone() {
        var storage = [UInt8](repeating: 0xEE, count: 20)
        storage.withUnsafeMutableBytes { raw in
            var writer = ByteWriter(raw)
            var header = FuseOutHeader()
            header.len = 16
            #expect(writer.write(header) == true)
            #expect(writer.write(FuseForgetIn()) == false) // 8 > 4 left
            #expect(writer.offset == 16)
            #expect(raw[16] == 0xEE)
            #expect(writer.writeZeros(5) == false)
            #expect(writer.writeZeros(4) == true)
            #expect(writer.patch(FuseForgetIn(), at: 13) == false)
            #expect(writer.patch(FuseForgetIn(), at: -1) == false)
            #expect(writer.patch(FuseForgetIn(), at: 12) == true)
            let one: [UInt8] = [1]
            let wrote = one.withUnsafeBytes { writer.writeBytes($0) }
            #expect(!wrote)
        }
        #expect(storage[16...] == [0, 0, 0, 0])
    }
}
