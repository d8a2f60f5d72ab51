// libFuzzer entry points for DescriptorChainTarget (Fuzz/Targets); built only by scripts/fuzz.
import FuzzDriver
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let data { DescriptorChainTarget.run(data, size) }
    return 0
}

/// SwiftPM links an executable's main under this name; libFuzzer's driver takes over from here.
@_cdecl("DescriptorChainFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
