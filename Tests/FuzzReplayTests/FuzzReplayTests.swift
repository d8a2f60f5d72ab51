import FuzzTargets
import Glibc
import Testing

/// Every seed (Fuzz/corpus/TARGET) and every input a fuzzer ever crashed on
/// (Fuzz/crashers/TARGET, kept after the fix) goes through its target again,
/// without sanitizers: a crash or a failed check in the target ends the test run.
@Suite(.serialized)
struct FuzzReplayTests {
    static let fuzzDirectory = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/")).withRootSlash + "/Fuzz"

    /// The files of Fuzz/KIND/TARGET.
    static func inputs(_ kind: String, _ target: String) -> [[UInt8]] {
        let directory = "\(fuzzDirectory)/\(kind)/\(target)"
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().compactMap { name in
            guard let file = fopen("\(directory)/\(name)", "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n == 0 { break }
                bytes += buffer[..<n]
            }
            return bytes
        }
    }

    static func replay(_ target: String, _ run: (UnsafePointer<UInt8>, Int) -> Void) -> Int {
        let all = inputs("corpus", target) + inputs("crashers", target)
        for input in all {
            // A one-byte array for the empty input: libFuzzer never passes a null pointer.
            let bytes = input.isEmpty ? [0] : input
            bytes.withUnsafeBufferPointer { run($0.baseAddress!, input.count) }
        }
        return all.count
    }

    @Test func fuseRequestCorpus() {
        #expect(Self.replay("FuseRequestFuzzer", FuseRequestTarget.run) > 0)
    }

    @Test func descriptorChainCorpus() {
        #expect(Self.replay("DescriptorChainFuzzer", DescriptorChainTarget.run) > 0)
    }

    @Test func vhostUserSessionCorpus() {
        // Other suites open descriptors in parallel: the target's own descriptor count would be noise.
        #expect(Self.replay("VhostUserMessageFuzzer") { VhostUserSessionTarget.run($0, $1, checkDescriptors: false) } > 0)
    }
}

private extension String {
    var withRootSlash: String { hasPrefix("/") ? self : "/" + self }
}
