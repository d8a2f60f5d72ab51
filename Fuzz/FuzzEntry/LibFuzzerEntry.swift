// How each fuzz executable hands over to libFuzzer: its main calls runLibFuzzer with
// what its target does with one input (Fuzz/Targets), and libFuzzer calls that
// through LLVMFuzzerTestOneInput, defined once here.
import FuzzDriver

/// The running executable's target; set once by runLibFuzzer, before libFuzzer starts.
nonisolated(unsafe) private var fuzzTarget: (UnsafePointer<UInt8>, Int) -> Void = { _, _ in }

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let data { fuzzTarget(data, size) }
    return 0
}

/// Runs libFuzzer's driver (its flags in argv) over `target`; returns its exit status.
public func runLibFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ target: @escaping (UnsafePointer<UInt8>, Int) -> Void) -> Int32 {
    fuzzTarget = target
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
