import Glibc

/// Runs `body(index)` on `count` plain threads and waits for all: the tests
/// exercise code that real transports call from their own pthreads.
public enum ThreadGroup {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }

    public static func run(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 0..<count {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(Box { body(index) }).toOpaque()
            pthread_create(&thread, nil, { Unmanaged<Box>.fromOpaque($0!).takeRetainedValue().body(); return nil }, box)
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
    }
}
