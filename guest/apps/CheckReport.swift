// PASS/FAIL lines and the final tally shared by selftest and dirtree.

final class CheckReport {
    private(set) var passed = 0
    private(set) var failed = 0
    var prefix = ""

    func pass(_ name: String) {
        passed += 1
        print("PASS \(prefix)\(name)")
    }

    func fail(_ name: String, _ detail: String) {
        failed += 1
        print("FAIL \(prefix)\(name): \(detail)")
    }

    func check(_ name: String, _ condition: Bool, _ detail: @autoclosure () -> String = "condition false") {
        if condition { pass(name) } else { fail(name, detail()) }
    }

    /// Runs `body`; PASS if it succeeds, FAIL with the errno otherwise. Returns its result.
    @discardableResult
    func succeeds<T>(_ name: String, _ body: () throws(Errno) -> T) -> T? {
        do {
            let value = try body()
            pass(name)
            return value
        } catch {
            fail(name, "unexpected \(error.name)")
            return nil
        }
    }

    /// A set-up step the checks after it depend on: no PASS line, but FAIL
    /// with the errno if it fails, so a broken set-up cannot pass unnoticed
    /// as a test of something else. Returns its result.
    @discardableResult
    func setUp<T>(_ step: String, line: Int = #line, _ body: () throws(Errno) -> T) -> T? {
        do {
            return try body()
        } catch {
            fail("set-up \(step) (Selftest.swift:\(line))", error.name)
            return nil
        }
    }

    /// PASS only if `body` fails with exactly `expected`.
    func fails<T>(_ name: String, with expected: Errno, _ body: () throws(Errno) -> T) {
        do {
            _ = try body()
            fail(name, "succeeded, expected \(expected.name)")
        } catch {
            check(name, error == expected, "got \(error.name), expected \(expected.name)")
        }
    }

    /// The closing line scripts look for; returns the exit status.
    func finish() -> Int32 {
        print("\(passed) passed, \(failed) failed")
        return failed == 0 ? 0 : 1
    }
}
