import CShim
import Glibc
import Testing
@testable import swiftfsd

/// The daemon's seccomp program, installed in a forked child: allowed calls
/// pass, others get the action (here: the process is killed with SIGSYS).
@Suite struct SeccompFilterTests {
    /// Forks; the child installs `program`, makes `call`, and exits 0 if it survives.
    func runFiltered(_ program: [sock_filter], _ call: @convention(c) () -> Int32) -> Int32 {
        var code = program
        return code.withUnsafeMutableBufferPointer { filter -> Int32 in
            let child = fork()
            if child == 0 {
                // Only system calls from here on: this child of a threaded process must not take runtime locks.
                _ = shim_prctl(shim_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                if shim_seccomp_install(filter.baseAddress, UInt16(filter.count)) != 0 { _exit(3) }
                _ = call()
                _exit(0)
            }
            var status: Int32 = 0
            waitpid(child, &status, 0)
            return status
        }
    }

    @Test(.enabled(if: SeccompFilter.supported)) func allowedCallsPassOthersKillTheProcess() {
        let program = SeccompFilter.program(action: .kill)
        #expect(!SeccompFilter.allowed.contains(Int32(__NR_getppid)), "the test needs a call the daemon never makes")
        let allowed = runFiltered(program) { getpid() }
        #expect(allowed == 0, "getpid is allowed: status \(allowed)")
        let refused = runFiltered(program) { getppid() }
        #expect(refused & 0x7f == SIGSYS, "getppid kills the process: status \(refused)")
    }
}
