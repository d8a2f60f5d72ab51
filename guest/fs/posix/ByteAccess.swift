// Typed-throwing access to array storage. The standard library's rethrowing
// withUnsafe(Mutable)Bytes crashes the Swift 6.3 optimizer when given a
// `throws(Errno)` closure, so the error leaves through a local instead.

func withBytes<R>(of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Errno) -> R) throws(Errno) -> R {
    var outcome: Result<R, Errno>? = nil
    array.withUnsafeBytes { raw in
        do throws(Errno) { outcome = .success(try body(raw)) } catch { outcome = .failure(error) }
    }
    return try outcome!.get()
}

func withMutableBytes<R>(of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> R) throws(Errno) -> R {
    var outcome: Result<R, Errno>? = nil
    array.withUnsafeMutableBytes { raw in
        do throws(Errno) { outcome = .success(try body(raw)) } catch { outcome = .failure(error) }
    }
    return try outcome!.get()
}
