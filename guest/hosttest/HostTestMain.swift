// The host test program's entry point (guest/hosttest/run): a scripted-device
// test by name, else a guest application command line as the kernel would pass it.

import Glibc

@main
struct HostTestMain {
    static func main() {
        let commandLine = CommandLine.arguments.dropFirst().joined(separator: " ")
        if commandLine == "fuse-faults" { exit(runFuseFaultTest()) }
        if commandLine == "dax-window" { exit(runDaxWindowTest()) }
        if commandLine == "ninep-faults" { exit(runNinePFaultTest()) }
        exit(applicationMain(commandLine: commandLine))
    }
}
