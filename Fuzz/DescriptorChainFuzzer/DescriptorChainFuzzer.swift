// libFuzzer entry point for DescriptorChainTarget (Fuzz/Targets); built only by scripts/fuzz.
import FuzzEntry
import FuzzTargets

/// SwiftPM links an executable's main under this name; libFuzzer's driver takes over from here.
@_cdecl("DescriptorChainFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, DescriptorChainTarget.run)
}
